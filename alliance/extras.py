"""Optional backends live in extras; a setting that asks for one that is not installed fails
with the command that installs it, not an ImportError from deep inside a library."""

# The pip command per extra, run in the project folder (torch first: an unpinned torch would
# pull a multi-gigabyte CUDA build).
INSTALL = {
    "sentence-transformers": "pip install torch==2.13.0 -e '.[sentence-transformers]'",
    "openai": "pip install -e '.[openai]'",
    "ollama": "pip install -e '.[ollama]'",
}


def missing_extra(setting: str, extra: str, module: str) -> str:
    """What to tell the admin whose `setting` needs the uninstalled `extra`."""
    return (
        f"{setting} needs the optional {extra!r} dependencies ({module} is not installed): "
        f"install them with `{INSTALL[extra]}`"
    )
