"""minerwatch: find hosts turned into cryptocurrency miners, prove it, and trace how they were broken into."""

__version__ = "0.1.0"
