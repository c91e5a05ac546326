from datetime import date
from pathlib import Path

import pytest

from assist.articles import parse_article, read_folder
from assist.errors import ArticleInvalid
from assist.passages import split_passages


def test_demo_kb_has_40_plus_articles_in_both_languages(demo_kb_dir: Path):
    articles, problems = read_folder(demo_kb_dir)
    assert problems == []
    langs = [a.language for a in articles]
    assert len(articles) >= 40
    assert langs.count("en") >= 20 and langs.count("zh") >= 18
    for a in articles:
        assert a.title and a.tags and a.product, a.id
        assert len(split_passages(a)) >= 1


def test_malformed_articles_are_reported_by_file_and_the_rest_imported(fixtures_dir: Path):
    articles, problems = read_folder(fixtures_dir / "kb_mixed")
    assert sorted(a.id for a in articles) == ["en-expired", "en-good-one", "zh-good"]
    by_file = {p.path: p.problem for p in problems}
    assert set(by_file) == {
        "en/no-front-matter.md", "en/bad-language.md", "en/bad-yaml.md",
        "en/bad-dates.md", "en/empty-body.md",
    }  # fmt: skip
    assert "front matter" in by_file["en/no-front-matter.md"]
    assert "'fr'" in by_file["en/bad-language.md"]
    assert "YAML" in by_file["en/bad-yaml.md"]
    assert "valid_to" in by_file["en/bad-dates.md"]
    assert "body" in by_file["en/empty-body.md"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("---\ntitle: x\nlanguage: en\n---\nbody", None),
        ("---\ntitle: x\nlanguage: en\nvalid_from: soon\n---\nbody", "valid_from"),
        ("---\ntitle: x\nlanguage: en\ncolour: red\n---\nbody", "unknown front-matter"),
        ("---\ntitle: ''\nlanguage: en\n---\nbody", "title"),
        ("---\ntitle: x\nlanguage: en\nid: Bad Id\n---\nbody", "id"),
        ("---\ntitle: x\nlanguage: en\n", "not closed"),
    ],
)
def test_parse_article_table(text: str, problem: str | None):
    if problem is None:
        assert parse_article(text, article_id="a").body == "body"
    else:
        with pytest.raises(ArticleInvalid, match=problem):
            parse_article(text, article_id="a")


def test_validity_and_fingerprint():
    a = parse_article(
        "---\ntitle: T\nlanguage: zh\nvalid_from: 2026-01-01\nvalid_to: 2026-03-31\n---\n正文",
        article_id="zh-t",
    )
    assert a.valid_on(date(2026, 2, 1)) and not a.valid_on(date(2026, 4, 1))
    assert not a.valid_on(date(2025, 12, 31))
    assert a.fingerprint == a.with_version(7).fingerprint  # version is not content


def test_passages_keep_title_and_split_paragraphs():
    text = "---\ntitle: Card fees\nlanguage: en\n---\n## Overview\n\n" + "\n\n".join(
        f"Paragraph {i} explains one particular fee in enough words to stand alone."
        for i in range(3)
    )
    passages = split_passages(parse_article(text, article_id="en-x"))
    assert len(passages) == 3
    assert passages[0].text.startswith("Overview\nParagraph 0")  # heading joins its paragraph
    assert all(p.indexed_text.startswith("Card fees\n") for p in passages)
    assert passages[1].id == "en-x#1"
