"""Rehearsals at several scales, fitted per statement and projected to production size (no printing, no plotting)."""
