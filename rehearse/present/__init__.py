"""What people read: figures, the HTML report, console output, notebook helpers and the demo."""
