"""Ingest fuzz: files of random bytes (and random text, and truncated real ones) under every
document extension are reported and skipped; the good documents beside them are published."""

import tempfile
from pathlib import Path

from conftest import markdown
from fakes import FakeEmbeddings
from hypothesis import given, settings
from hypothesis import strategies as st
from sample_files import make_docx, make_pdf

from alliance.index_format import IndexLayout
from alliance.settings import Settings
from ingest.pipeline import run_ingest

SIDECAR = "title: Fuzz\ntopic: faq\naudience: public\nlang: en\nstatus: sample\nsource: fuzz\n"
SIDECAR += "updated: 2026-11-28\n"
SIDECAR_EXTENSIONS = {"txt", "html", "htm", "pdf", "docx"}
EXTENSIONS = ["md", "markdown", "txt", "html", "htm", "pdf", "docx", "yaml", "yml"]
_CONTENT = st.one_of(
    st.binary(max_size=3000),
    st.text(max_size=2000).map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.sampled_from([make_pdf(["Credit rules"]), make_docx("Credit", ["Rules"])]).flatmap(
        lambda data: st.integers(0, len(data)).map(lambda cut: data[:cut])
    ),
    st.sampled_from([b"---\ntitle: [unclosed\n---\n", b"---\n---\n", b"\xff\xfe---", b"\x00" * 99]),
)


@given(files=st.lists(st.tuples(st.sampled_from(EXTENSIONS), _CONTENT), min_size=1, max_size=6))
@settings(max_examples=60, deadline=None)
def test_random_files_are_skipped_and_good_ones_published(files):
    with tempfile.TemporaryDirectory() as folder:
        knowledge = Path(folder) / "knowledge"
        knowledge.mkdir()
        (knowledge / "good.md").write_text(markdown("Good", "## Rules\n\nThe pass mark is 60."))
        for number, (extension, data) in enumerate(files):
            (knowledge / f"fuzz-{number}.{extension}").write_bytes(data)
            if extension in SIDECAR_EXTENSIONS:  # so that the parsers get the random bytes
                (knowledge / f"fuzz-{number}.{extension}.meta.yaml").write_text(SIDECAR)
        config = Settings(knowledge_dir=knowledge, index_dir=Path(folder) / "index")
        summary = run_ingest(config, embeddings_factory=lambda _: FakeEmbeddings())
        layout = IndexLayout(config.index_dir)
        manifest = layout.read_manifest(layout.published_version())
        assert "good.md" in manifest.files
        indexed_or_reported = set(manifest.files) | {error.path for error in summary.errors}
        assert indexed_or_reported == {"good.md"} | {
            f"fuzz-{n}.{extension}" for n, (extension, _) in enumerate(files)
        }
        assert all(error.error for error in summary.errors)  # every skip says why
