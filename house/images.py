"""What an image reference pins: one rule, shared by the settings (synth) and the deploy rules.

Pure Python (no CDK import), so deployment/ can use it too.
"""

from __future__ import annotations


def pinned(image: str) -> bool:
    """True when an image reference names one image for good: a digest, or a tag other than
    `latest` (a reference without a tag means `latest`). A service that pulls `latest` runs
    whatever was pushed last, not what was deployed."""
    if "@sha256:" in image:
        return True
    name = image.rsplit("/", 1)[-1]
    return ":" in name and name.rsplit(":", 1)[1] != "latest"
