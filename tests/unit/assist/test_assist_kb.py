from datetime import date
from pathlib import Path

from assist.articles import parse_article
from assist.embedding import HashingEmbedder
from assist.kb import KnowledgeBase, rrf
from core.clock import FrozenClock


def _art(body: str, *, title: str = "Cheque deposits") -> str:
    return f"---\ntitle: {title}\nlanguage: en\ntags: [cheque]\n---\n{body}"


def test_empty_kb_and_blank_query_return_nothing(clock: FrozenClock):
    kb = KnowledgeBase(embedder=HashingEmbedder(), clock=clock)
    assert kb.search("how do I block my card") == []
    kb.upsert(
        parse_article(_art("Cheques clear within two working days of deposit."), article_id="a")
    )
    assert kb.search("   ") == []


def test_search_returns_passage_text_title_and_article(demo_kb: KnowledgeBase):
    hits = demo_kb.search("my card was stolen, how do I block it", k=3, language="en")
    assert hits[0].article_id == "en-lost-stolen-card"
    assert hits[0].title == "Reporting a lost or stolen card"
    assert "block" in hits[0].text and hits[0].text in demo_kb.article(hits[0].article_id).body
    assert len({h.article_id for h in hits}) == len(hits)  # one hit per article
    zh = demo_kb.search("银行卡丢了怎么挂失", k=3, language="zh")
    assert zh[0].article_id == "zh-lost-card" and all(h.language == "zh" for h in zh)


def test_validity_dates_pick_the_schedule_in_force(demo_kb: KnowledgeBase):
    q = "monthly maintenance fee for the everyday account"
    in_2026 = [h.article_id for h in demo_kb.search(q, k=5, language="en", on=date(2026, 3, 1))]
    in_2025 = [h.article_id for h in demo_kb.search(q, k=5, language="en", on=date(2025, 3, 1))]
    assert "en-fees" in in_2026 and "en-fees-2025" not in in_2026
    assert "en-fees-2025" in in_2025 and "en-fees" not in in_2025


def test_import_reports_bad_files_and_imports_the_rest(
    clock: FrozenClock, tmp_path: Path, fixtures_dir: Path
):
    kb = KnowledgeBase(embedder=HashingEmbedder(), clock=clock, index_dir=tmp_path)
    report = kb.import_folder(fixtures_dir / "kb_mixed")
    assert sorted(report.added) == ["en-expired", "en-good-one", "zh-good"]
    assert len(report.problems) == 5
    assert kb.import_folder(tmp_path / "missing").problems[0].problem == "not a folder"


def test_edit_makes_a_new_version_and_embeds_only_changed_paragraphs(clock: FrozenClock, embedder):
    kb = KnowledgeBase(embedder=embedder, clock=clock)
    p1 = "Cheques paid in at a branch clear within two working days."
    p2 = "Cheques over five thousand dollars must be paid in at a counter."
    first, status = kb.upsert(parse_article(_art(f"{p1}\n\n{p2}"), article_id="en-cheques"))
    assert (first.version, status, embedder.embedded) == (1, "added", 2)
    _, status = kb.upsert(parse_article(_art(f"{p1}\n\n{p2}"), article_id="en-cheques"))
    assert status == "unchanged" and embedder.embedded == 2
    p2b = "Cheques over ten thousand dollars must be paid in at a counter."
    second, status = kb.upsert(parse_article(_art(f"{p1}\n\n{p2b}"), article_id="en-cheques"))
    assert (second.version, status, embedder.embedded) == (2, "updated", 3)
    assert [v.version for v in kb.versions("en-cheques")] == [1, 2]
    assert "five thousand" in kb.article("en-cheques", 1).body
    texts = [h.text for h in kb.search("cheque over ten thousand counter", k=3)]
    assert p2b in texts and p2 not in texts
    assert kb.passage_count == 2


def test_retire_removes_from_search_and_reimport_restores(clock: FrozenClock):
    kb = KnowledgeBase(embedder=HashingEmbedder(), clock=clock)
    art = parse_article(_art("Cheques clear within two working days of deposit."), article_id="a")
    kb.upsert(art)
    kb.retire(art.id)
    assert kb.search("cheques clear") == []
    assert kb.upsert(art)[1] == "unchanged"
    assert kb.search("cheques clear")[0].article_id == art.id


def test_persisted_index_reopens_without_reembedding(
    clock: FrozenClock, tmp_path: Path, fixtures_dir: Path, counting
):
    first = counting()
    kb = KnowledgeBase(embedder=first, clock=clock, index_dir=tmp_path)
    kb.import_folder(fixtures_dir / "kb_mixed")
    before = [h.passage_id for h in kb.search("cheque counter", k=3, on=date(2026, 1, 1))]
    second = counting()
    reopened = KnowledgeBase.open(tmp_path, embedder=second, clock=clock)
    after = [h.passage_id for h in reopened.search("cheque counter", k=3, on=date(2026, 1, 1))]
    assert after == before and second.embedded == 0
    assert reopened.import_folder(fixtures_dir / "kb_mixed").unchanged and second.embedded == 0


def test_changed_embedder_rebuilds_the_dense_index(
    clock: FrozenClock, tmp_path: Path, fixtures_dir: Path, counting
):
    KnowledgeBase(embedder=HashingEmbedder(64), clock=clock, index_dir=tmp_path).import_folder(
        fixtures_dir / "kb_mixed"
    )
    other = counting()  # dim 128: the stored vectors cannot be used
    kb = KnowledgeBase.open(tmp_path, embedder=other, clock=clock)
    assert other.embedded == kb.passage_count > 0
    assert kb.search("cheque", k=1, on=date(2026, 1, 1))


def test_many_edits_compact_the_index(clock: FrozenClock):
    kb = KnowledgeBase(embedder=HashingEmbedder(), clock=clock)
    for i in range(80):
        body = "\n\n".join(f"Version {i} paragraph {j} about cheque deposits." for j in range(2))
        kb.upsert(parse_article(_art(body), article_id="en-cheques"))
    assert kb.passage_count == 2
    assert len(kb._rows) < 80  # tombstones were compacted away
    assert "Version 79" in kb.search("cheque deposits paragraph", k=1)[0].text


def test_rrf_rewards_agreement():
    fused = rrf([[(1, 0.9), (2, 0.8)], [(2, 7.0), (3, 5.0)]])
    assert max(fused, key=fused.get) == 2
