"""Incremental, atomic ingest against a real embedded Chroma; fake embeddings keep it fast."""

import threading

import numpy as np
import pytest
from conftest import markdown
from fakes import FakeEmbeddings, refuse_model

from alliance.index_format import IndexLayout, open_client, open_collection
from alliance.settings import Settings
from ingest.pipeline import IngestError, run_ingest


def _ingest(settings, embeddings=None, **kwargs):
    embeddings = embeddings or FakeEmbeddings()
    return run_ingest(settings, embeddings_factory=lambda _: embeddings, **kwargs)


def _published(settings):
    layout = IndexLayout(settings.index_dir)
    manifest = layout.read_manifest(layout.published_version())
    collection = open_collection(settings, layout, manifest)
    return layout, manifest, collection


def _stored(collection) -> dict[str, tuple]:
    data = collection.get(include=["embeddings", "metadatas", "documents"])
    return {
        chunk_id: (tuple(vector), meta["path"], text)
        for chunk_id, vector, meta, text in zip(
            data["ids"], data["embeddings"], data["metadatas"], data["documents"], strict=True
        )
    }


def test_first_run_publishes_a_complete_version(settings):
    summary = _ingest(settings)
    assert (summary.added, summary.updated, summary.removed, summary.unchanged) == (3, 0, 0, 0)
    assert summary.errors == [] and summary.exit_code == 0
    layout, manifest, collection = _published(settings)
    assert summary.index_version == manifest.version == layout.current_version()
    assert summary.chunks == manifest.chunk_count == collection.count() == 3
    assert set(manifest.files) == {"a.md", "b.md", "c.md"}
    keywords = {entry.id: entry for entry in layout.read_keywords(manifest.version)}
    assert set(keywords) == set(_stored(collection))
    staff = [entry for entry in keywords.values() if entry.audience == "staff"]
    assert len(staff) == 1 and "员工" in staff[0].tokens and staff[0].lang == "zh"


def test_unchanged_run_neither_loads_the_model_nor_publishes(settings):
    first = _ingest(settings)
    again = run_ingest(settings, embeddings_factory=refuse_model)
    assert (again.unchanged, again.added, again.updated, again.removed) == (3, 0, 0, 0)
    assert again.index_version == first.index_version and again.chunks == 3


def test_changed_document_is_replaced_and_others_are_not_re_embedded(settings, knowledge):
    _ingest(settings)
    before = _stored(_published(settings)[2])
    (knowledge / "b.md").write_text(markdown("Beta", "## Two\n\nBeta text, revised."))
    embeddings = FakeEmbeddings()
    summary = _ingest(settings, embeddings)
    assert (summary.updated, summary.unchanged, summary.added) == (1, 2, 0)
    chunks = [text for text in embeddings.embedded if "\n" in text]  # a chunk has headings
    assert len(chunks) == 1 and "revised" in chunks[0]
    assert [t for t in embeddings.embedded if "\n" not in t] == ["Two: Beta text, revised."]
    after = _stored(_published(settings)[2])
    assert {v[1] for v in after.values()} == {"a.md", "b.md", "c.md"}
    assert {v[1] for k, v in after.items() if k not in before} == {"b.md"}
    assert not any(v[1] == "b.md" for k, v in after.items() if k in before)
    for chunk_id, (vector, path, text) in after.items():
        if path != "b.md":  # copied as they were (Chroma renormalises: float32 rounding only)
            assert before[chunk_id][1:] == (path, text)
            assert np.allclose(before[chunk_id][0], vector, atol=1e-6)


def test_removed_and_renamed_documents(settings, knowledge):
    _ingest(settings)
    (knowledge / "a.md").unlink()
    (knowledge / "b.md").rename(knowledge / "b-renamed.md")
    summary = _ingest(settings)
    assert (summary.added, summary.removed, summary.unchanged) == (1, 2, 1)
    _, manifest, collection = _published(settings)
    assert set(manifest.files) == {"b-renamed.md", "c.md"}
    assert {value[1] for value in _stored(collection).values()} == {"b-renamed.md", "c.md"}


def test_bad_file_is_skipped_and_the_rest_published(settings, knowledge):
    (knowledge / "broken.md").write_text("---\ntitle: [oops\n---\n")
    summary = _ingest(settings)
    assert summary.exit_code == 1 and summary.added == 3
    assert [(e.path, "YAML" in e.error) for e in summary.errors] == [("broken.md", True)]
    assert set(_published(settings)[1].files) == {"a.md", "b.md", "c.md"}


def test_a_document_that_breaks_keeps_its_last_good_version(settings, knowledge):
    _ingest(settings)
    (knowledge / "a.md").write_bytes(b"\xff\xfe broken")
    summary = _ingest(settings)
    assert [e.path for e in summary.errors] == ["a.md"] and summary.unchanged == 3
    _, manifest, collection = _published(settings)
    assert "a.md" in manifest.files
    assert any("Alpha" in value[2] for value in _stored(collection).values())


def test_dry_run_reports_without_loading_or_publishing(settings, knowledge):
    summary = run_ingest(settings, dry_run=True, embeddings_factory=refuse_model)
    assert summary.added == 3 and summary.chunks == 3 and summary.index_version is None
    assert IndexLayout(settings.index_dir).current_version() is None
    _ingest(settings)
    (knowledge / "d.md").write_text(markdown("Delta", "New."))
    summary = run_ingest(settings, dry_run=True, embeddings_factory=refuse_model)
    assert (summary.added, summary.unchanged, summary.chunks) == (1, 3, 4)
    assert len(_published(settings)[1].files) == 3


def test_another_embedding_model_re_embeds_everything(settings, tmp_path):
    _ingest(settings)
    model = tmp_path / "other-model"
    model.mkdir()
    (model / "modules.json").write_text("[]")
    other = settings.model_copy(
        update={"embedding_backend": "sentence-transformers", "embedding_model": str(model)}
    )
    embeddings = FakeEmbeddings()
    summary = _ingest(other, embeddings)
    chunks = [text for text in embeddings.embedded if "\n" in text]
    assert summary.updated == 3 and len(chunks) == 3
    # The sentences too: vectors of another model.
    assert "One: Alpha text about credits." in embeddings.embedded
    assert _published(other)[1].embedding.model == str(model)


def test_old_versions_are_removed_but_the_previous_one_is_kept(settings, knowledge):
    versions = []
    for number in range(4):
        (knowledge / "n.md").write_text(markdown("N", f"Revision {number}."))
        versions.append(_ingest(settings).index_version)
    layout = IndexLayout(settings.index_dir)
    assert sorted(p.name for p in layout.versions.iterdir()) == sorted(versions[-2:])


def test_leftovers_of_a_killed_run_are_cleaned_up(settings, knowledge):
    first = _ingest(settings)
    layout = IndexLayout(settings.index_dir)
    (layout.versions / "20000101T000000Z-dead00" / "chroma").mkdir(parents=True)
    (knowledge / "d.md").write_text(markdown("Delta", "New."))
    second = _ingest(settings)
    kept = {p.name for p in layout.versions.iterdir()}
    assert kept == {first.index_version, second.index_version}  # the dead run's folder is gone


def test_corrupt_pointer_rebuilds_from_scratch(settings):
    _ingest(settings)
    layout = IndexLayout(settings.index_dir)
    layout.pointer.write_text("no-such-version\n")
    summary = _ingest(settings)
    assert summary.added == 3 and layout.current_version() == summary.index_version


def test_concurrent_ingest_is_refused(settings):
    started, release = threading.Event(), threading.Event()

    class SlowEmbeddings(FakeEmbeddings):
        def embed_documents(self, texts):
            started.set()
            release.wait(10)
            return super().embed_documents(texts)

    worker = threading.Thread(target=_ingest, args=(settings, SlowEmbeddings()))
    worker.start()
    try:
        assert started.wait(10)
        with pytest.raises(IngestError, match="another ingest is running"):
            _ingest(settings)
    finally:
        release.set()
        worker.join()
    assert IndexLayout(settings.index_dir).current_version() is not None


@pytest.mark.parametrize("layout", ["missing", "empty", "only-ignored"])
def test_configuration_errors_publish_nothing(tmp_path, layout):
    folder = tmp_path / "kb"
    if layout != "missing":
        folder.mkdir()
    if layout == "only-ignored":
        (folder / "picture.png").write_bytes(b"png")
    settings = Settings(knowledge_dir=folder, index_dir=tmp_path / "index")
    with pytest.raises(IngestError, match="is not a folder" if layout == "missing" else "found"):
        _ingest(settings)
    assert IndexLayout(tmp_path / "index").current_version() is None


def test_nothing_indexable_publishes_nothing(tmp_path):
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "bad.md").write_text("no front matter")
    settings = Settings(knowledge_dir=folder, index_dir=tmp_path / "index")
    with pytest.raises(IngestError, match="no document could be indexed"):
        _ingest(settings)


def test_collections_use_cosine_distance(settings):
    _ingest(settings)
    _, manifest, _ = _published(settings)
    client = open_client(settings, IndexLayout(settings.index_dir), manifest.version, "local")
    collection = client.get_collection(manifest.store["collection"])
    hnsw = collection.configuration["hnsw"]
    assert hnsw is not None and hnsw["space"] == "cosine"


GLOSSARY = """glossary:
  title: {{en: Glossary, zh: 术语表}}
  updated: 2026-12-02
  groups:
    - [{group}]
  characters: {{學: 学}}
  function_words: [what, 吗]
"""


def test_the_glossary_is_stored_with_the_version_and_kept_when_it_breaks(settings, knowledge):
    (knowledge / "glossary.yaml").write_text(GLOSSARY.format(group="Uni, university"))
    first = _ingest(settings)
    assert first.errors == [] and first.added == 4
    layout = IndexLayout(settings.index_dir)
    [stored] = layout.read_glossary(first.index_version).values()
    assert stored.groups == (("uni", "university"),) and stored.function_words == ("what", "吗")
    assert stored.simplified("學分") == "学分"

    # Only the glossary changed: a new version, and no chunk embedded again.
    (knowledge / "glossary.yaml").write_text(GLOSSARY.format(group="网课, 在线课程"))
    embeddings = FakeEmbeddings()
    second = _ingest(settings, embeddings)
    assert second.updated == 1 and second.index_version != first.index_version
    assert embeddings.embedded == []  # no document changed: nothing to embed
    [stored] = layout.read_glossary(second.index_version).values()
    assert stored.groups == (("网课", "在线课程"),)

    # A broken glossary is reported and its last good content stays.
    for broken in ("glossary: [", "glossary:\n  title: {en: G, zh: G}\n  updated: 2026-12-02\n"
                   "  groups:\n    - [alone]\n", "other: 1\n"):  # fmt: skip
        (knowledge / "glossary.yaml").write_text(broken)
        third = _ingest(settings, refuse_model)
        assert [e.path for e in third.errors] == ["glossary.yaml"]
        version = third.index_version or second.index_version
        [kept] = layout.read_glossary(version).values()
        assert kept.groups == (("网课", "在线课程"),)


def test_an_unchanged_glossary_publishes_nothing(settings, knowledge):
    (knowledge / "glossary.yaml").write_text(GLOSSARY.format(group="uni, university"))
    first = _ingest(settings)
    again = run_ingest(settings, embeddings_factory=refuse_model)
    assert again.index_version == first.index_version and again.unchanged == 4


def test_the_sentences_keep_vectors_and_embed_only_new_chunks(settings, knowledge):
    first = _ingest(settings)
    layout = IndexLayout(settings.index_dir)
    sentences = layout.read_sentences(first.index_version)
    assert {"Alpha text about credits.", "Beta text about courses.", "员工手册。"} <= set(
        sentences.texts
    )
    assert np.allclose(np.linalg.norm(sentences.vectors, axis=1), 1.0)
    (knowledge / "d.md").write_text(markdown("Delta", "## Four\n\nDelta badges. Delta rules."))
    embeddings = FakeEmbeddings()
    second = _ingest(settings, embeddings)
    embedded_sentences = [text for text in embeddings.embedded if "\n" not in text]
    assert sorted(embedded_sentences) == ["Four: Delta badges.", "Four: Delta rules."]
    again = layout.read_sentences(second.index_version)
    row, old_row = (
        again.texts.index("Alpha text about credits."),
        sentences.texts.index("Alpha text about credits."),
    )
    assert np.allclose(again.vectors[row], sentences.vectors[old_row])
    assert again.chunk_ids[row] == sentences.chunk_ids[old_row]
