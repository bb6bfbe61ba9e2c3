"""voxnumbers: a phone-number control plane that speaks the TryVox numbers API."""

__version__ = "0.1.0"
