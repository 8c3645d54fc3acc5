"""Signing and linking after the commit: in a thread of its own on PostgreSQL, in the import's
loop elsewhere, and later, by the feed pass, for what a run could not check."""

import datetime
import threading

import pytest
from django.utils import timezone

from articles.models import ContentSignature, SimilarityKey
from syndication.models import PossibleDuplicate
from syndication.pipeline import duplicates
from syndication.tasks import enqueue_due_feeds
from tests.factories import ArticleFactory, LicensedSourceFactory
from tests.test_duplicates import import_version, version

LATER = datetime.timedelta(minutes=11)


@pytest.fixture
def checking_threads(monkeypatch):
    """The names of the threads that signed and linked, in order."""
    names = []
    sign_and_link = duplicates.sign_and_link

    def recorded(articles, run):
        names.append(threading.current_thread().name)
        return sign_and_link(articles, run)

    monkeypatch.setattr(duplicates, "sign_and_link", recorded)
    return names


@pytest.fixture
def failing_signatures(monkeypatch):
    def fail(title, body_text):
        raise RuntimeError("signature failed")

    monkeypatch.setattr(duplicates, "signature_of", fail)
    return monkeypatch


def forget_signature(article):
    SimilarityKey.objects.filter(article=article).delete()
    ContentSignature.objects.filter(article=article).delete()


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_run_checks_in_a_thread_and_counts_before_it_ends(
    postgres_only, checking_threads
):
    _run, original = import_version(version("museum", "first outlet"), "museum")

    run, rewrite = import_version(version("museum", "shortening outlet"), "museum-short")

    assert checking_threads == ["duplicate-check", "duplicate-check"]
    link = PossibleDuplicate.objects.get()
    assert (link.article, link.duplicate_of, link.run) == (rewrite, original, run)
    run.refresh_from_db()
    assert run.possible_duplicates == 1
    assert ContentSignature.objects.count() == 2


@pytest.mark.django_db
def test_inside_a_transaction_the_run_checks_in_its_own_loop(checking_threads):
    import_version(version("museum", "first outlet"), "museum")

    run, _rewrite = import_version(version("museum", "shortening outlet"), "museum-short")

    assert checking_threads == [threading.current_thread().name] * 2
    assert run.possible_duplicates == 1


@pytest.mark.django_db(transaction=True)
def test_a_check_that_fails_is_noted_and_the_feed_pass_does_it_later(failing_signatures):
    _run, original = import_version(version("heat", "first outlet"), "heat")
    run, rewrite = import_version(version("heat", "editing outlet"), "heat-edit")

    assert run.created == 1  # the article is stored all the same
    assert "1 article(s) could not be checked for possible duplicates" in " ".join(run.notes)
    assert not ContentSignature.objects.exists()

    failing_signatures.undo()
    examined = duplicates.sign_missed_imports(now=timezone.now() + LATER)

    assert examined == 2
    assert ContentSignature.objects.count() == 2
    link = PossibleDuplicate.objects.get()
    assert (link.article, link.duplicate_of) == (rewrite, original)


@pytest.mark.django_db
def test_the_feed_pass_leaves_recent_and_unimported_articles_alone(failing_signatures):
    _run, imported = import_version(version("ferry", "first outlet"), "ferry")
    written_here = ArticleFactory(source=LicensedSourceFactory())
    forget_signature(written_here)
    failing_signatures.undo()

    assert duplicates.sign_missed_imports() == 0  # within the grace period
    assert list(duplicates.missed_imports(timezone.now() + LATER)) == [imported]
    assert list(duplicates.missed_imports(timezone.now() + datetime.timedelta(days=3))) == []


@pytest.mark.django_db
def test_the_periodic_pass_signs_what_was_missed(failing_signatures, monkeypatch):
    _run, imported = import_version(version("ferry", "first outlet"), "ferry")
    failing_signatures.undo()
    monkeypatch.setattr(duplicates, "MISSED_GRACE", datetime.timedelta(0))

    enqueue_due_feeds()

    assert ContentSignature.objects.filter(article=imported).exists()


@pytest.mark.django_db(transaction=True)
def test_a_check_thread_that_cannot_start_misses_its_chunks_and_the_run_still_ends(
    postgres_only, monkeypatch
):
    def no_connection():
        raise RuntimeError("no connection to be had")

    monkeypatch.setattr(duplicates, "commits_without_waiting_for_the_disk", no_connection)

    run, _article = import_version(version("heat", "first outlet"), "heat")

    assert run.created == 1
    assert "1 article(s) could not be checked for possible duplicates" in " ".join(run.notes)
    assert not ContentSignature.objects.exists()
