"""Capabilities as a bit mask and as a list: now in ``voxnumbers.vocabulary``.

Kept for the modules that still import them from here (the export and the benchmarks);
new code imports ``voxnumbers.vocabulary``.
"""

from voxnumbers.vocabulary import CAPABILITIES, to_list, to_mask

__all__ = ["CAPABILITIES", "to_list", "to_mask"]
