def from_files(*a, **k): raise NotImplementedError
