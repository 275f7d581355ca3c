"""The ``coauthor`` command: the GUI with no subcommand, headless project commands otherwise.

Nothing here imports Qt unless the GUI is asked for. Exit codes: 0 success, 1 failure with
one line on stderr, 2 usage error (from argparse).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from coauthor import __version__
from coauthor.app.projects import create_project, import_sources, opened, parse_sources
from coauthor.app.terminal import escape_controls, escape_json_controls, is_terminal
from coauthor.core.book import BookMeta
from coauthor.core.history import apply_event
from coauthor.core.origin import Origin
from coauthor.core.project import REPORT_CATEGORIES, Project, ProjectError
from coauthor.core.provenance import ProvenanceText
from coauthor.core.roles import book_stats
from coauthor.store import ProjectFile, ProjectFileError

if TYPE_CHECKING:
    from coauthor.ai.moderation import OpenAIModerator

__all__ = ["main"]


class CommandFailed(Exception):
    """A command cannot do what was asked; the message is the one line printed."""


def _write(text: str, *, exact: bool = False) -> None:
    """Print ``text``. Control characters (ESC...) are shown as ``\\xHH``, so nothing from a
    book acts on the terminal; with ``exact`` they are kept when the output is not a
    terminal (``coauthor cat`` into a file or a pipe gives the text byte for byte)."""
    if not (exact and not is_terminal(sys.stdout)):
        text = escape_controls(text)
    sys.stdout.buffer.write(text.encode("utf-8", "surrogatepass"))
    sys.stdout.buffer.flush()


def cmd_new(args: argparse.Namespace) -> int:
    meta = BookMeta(
        title=args.title,
        author=args.author or "",
        company=args.company or "",
        language=args.language,
    )
    create_project(args.project, meta)
    print(f"Created {args.project}", file=sys.stderr)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    parsed = parse_sources(args.sources, args.encoding, keep_line_breaks=args.keep_line_breaks)
    summaries = import_sources(
        args.into,
        parsed,
        own_writing=args.own_writing,
        title=args.title,
        author=args.author,
        markup=args.markup,
    )
    for summary in summaries:
        extra = f", {summary.generations} generations pending review" if summary.generations else ""
        print(
            f"Imported {summary.source} as {len(summary.chapters)} chapter"
            f"{'' if len(summary.chapters) == 1 else 's'}{extra}",
            file=sys.stderr,
        )
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    if args.by_day or args.csv:
        return _stats_by_day(args)
    with opened(args.project, readonly=True) as (_, project):
        stats = book_stats(project.chapters, project.generations)
    if args.json:
        # JSON escapes C0 itself; DEL and C1 become \u escapes: the same JSON, never raw.
        text = json.dumps(stats, indent=2, ensure_ascii=False)
        _write(escape_json_controls(text) + "\n", exact=True)
        return 0
    _write(_stats_table(project, stats))
    return 0


def _stats_by_day(args: argparse.Namespace) -> int:
    """Words written per day by origin, deletions, time and sessions (``core.daily``)."""
    import datetime as dt

    from coauthor.app.statistics import default_cache_dir, summarise
    from coauthor.core.daily import ORIGIN_ORDER, by_day, daily_csv

    project_file = ProjectFile.open(args.project, readonly=True)
    try:
        if args.no_cache:
            tally = summarise(project_file.conn, Path(args.project), None, kept=False)
        else:
            tally = summarise(project_file.conn, Path(args.project), default_cache_dir())
    finally:
        project_file.close()
    days = by_day(tally, dt.UTC if args.utc else None)
    if args.csv:
        _write(daily_csv(days, newline="\n"))
        return 0
    if args.json:
        rows = [
            {
                "date": d.date.isoformat(),
                "words": {o.value: d.words[o] for o in ORIGIN_ORDER},
                "chars": {o.value: d.chars[o] for o in ORIGIN_ORDER},
                "deleted": d.deleted,
                "restored": d.restored,
                "sessions": d.sessions,
                "seconds": d.seconds,
            }
            for d in days
        ]
        _write(json.dumps(rows, indent=2) + "\n")
        return 0
    header = (
        f"{'date':<10} {'typed':>9} {'model':>9} {'pasted':>9} {'imported':>9} "
        f"{'deleted':>9} {'restored':>9} {'sessions':>8} {'time':>7}"
    )
    zone = "UTC" if args.utc else "local time"
    lines = [
        f"{Path(args.project).name}: words written per day by origin ({zone})",
        header,
        "-" * len(header),
    ]

    def row(label: str, ds: list) -> str:
        words = " ".join(f"{sum(d.words[o] for d in ds):>9,}" for o in ORIGIN_ORDER)
        minutes = sum(d.seconds for d in ds) // 60
        return (
            f"{label:<10} {words} {sum(d.deleted for d in ds):>9,} "
            f"{sum(d.restored for d in ds):>9,} {sum(d.sessions for d in ds):>8,} "
            f"{minutes // 60:>3}:{minutes % 60:02d}"
        )

    lines.extend(row(d.date.isoformat(), [d]) for d in days)
    lines.append("-" * len(header))
    lines.append(row("total", days))
    lines.append("")
    lines.append(
        "words: inserted by edits, by origin (model: accepted from a generation); text put back "
        "by undo or moved is not counted again; deleted, restored: characters; time (h:mm): "
        "pauses of at most 5 minutes between changes, added up; a longer pause starts a new "
        "session. From the tamper-evident record of edits: not proof of who typed."
    )
    _write("\n".join(lines) + "\n")
    return 0


def _stats_table(project: Project, stats: dict) -> str:
    origins = [o.value for o in Origin]
    header = (
        f"{'chapter':<32} " + " ".join(f"{o:>10}" for o in origins) + f" {'AI %':>6} {'pending':>8}"
    )
    lines = [
        f"{project.meta.title} — characters by origin (AI %: the share of the characters)",
        header,
        "-" * len(header),
    ]

    def row(title: str, data: dict) -> str:
        chars = data["chars"]
        total = sum(chars.values())
        share = f"{data['shares']['ai']}%" if total else "-"
        title = title if len(title) <= 32 else title[:31] + "…"
        return (
            f"{title:<32} "
            + " ".join(f"{chars[o]:>10,}" for o in origins)
            + f" {share:>6} {data['generations']['pending']:>8}"
        )

    lines.extend(row(c["title"], c) for c in stats["chapters"])
    lines.append("-" * len(header))
    book = stats["book"]
    lines.append(row("book", book))
    lines.append("")
    lines.append(
        "words:    "
        + ", ".join(f"{o} {book['words'][o]:,} ({book['word_shares'][o]}%)" for o in origins)
    )
    lines.append(
        "inserted over the whole history: "
        + ", ".join(f"{o} {book['process']['inserted'][o]:,}" for o in origins)
    )
    gens = book["generations"]
    lines.append(
        f"generations: {gens['pending']} pending, {gens['approved']} approved, "
        f"{gens['rejected']} rejected, {gens['deleted']} deleted before review "
        f"({gens['inserted']} inserted of {gens['requested']} requested, "
        f"{gens['never_inserted']} never inserted); "
        f"the model's passages in the book: {gens['passages']}"
    )
    return "\n".join(lines) + "\n"


def cmd_share(args: argparse.Namespace) -> int:
    """Share a passage as labelled text, or with ``--image`` as a PNG card: through the review
    gate (nothing pending, nothing flagged by screening without an override), recorded in the
    history (form ``text`` or ``image``, with the SHA-256 of what was handed out)."""
    from coauthor.app.export import read_checked, screen_project
    from coauthor.core.policy import Scope, check_gate
    from coauthor.publish.document import ExportWriteError, atomic_write
    from coauthor.publish.share import shared_text

    checked = read_checked(args.project)  # the record checks out, or nothing is written
    chapter = checked.find_chapter(args.chapter)
    length = len(chapter.text)
    start = 0 if args.start is None else args.start
    end = length if args.end is None else args.end
    if not 0 <= start < end <= length:
        raise CommandFailed(
            f"--start {start} --end {end} is not a passage of chapter {args.chapter!r} "
            f"(it has {length:,} characters; the end must be after the start)"
        )
    summary = screen_project(checked)
    gate = check_gate(
        checked.chapters,
        checked.generations,
        Scope.selection(chapter.id, start, end),
        summary.flags,
    )
    if not gate.allowed:
        for passage in gate.passages:
            print(f"coauthor: not shared: {escape_controls(passage.line())}", file=sys.stderr)
        return 3
    shared = shared_text(checked, chapter, start, end)
    png = b""
    if args.image:
        from coauthor.publish.sharecard import card_png, card_refusal

        refusal = card_refusal(shared)
        if refusal is not None:
            raise CommandFailed(refusal)
        png = card_png(shared)  # drawn before anything is recorded: a failure records nothing
    with opened(args.project, readonly=False) as (project_file, project):
        live = project.chapter(chapter.id)
        if live.text.text_in(start, end) != chapter.text.text_in(start, end):
            raise CommandFailed("the chapter changed while it was being shared; try again")
        if args.image:
            project.record_share(live, start, end, "image", hashlib.sha256(png).hexdigest())
        else:
            project.record_share(live, start, end, "text", shared.sha256)
        project_file.flush(project)
    if args.image:
        image = Path(args.image)

        def write_png(temp: Path) -> None:
            temp.write_bytes(png)

        try:
            atomic_write(image, write_png)
        except ExportWriteError as exc:
            raise CommandFailed(f"the share is recorded, but {exc}") from None
        print(f"Shared {end - start:,} characters as a card in {image}", file=sys.stderr)
    elif args.out:
        target = Path(args.out)

        def write(temp: Path) -> None:
            temp.write_text(shared.text, encoding="utf-8")

        try:
            atomic_write(target, write)
        except ExportWriteError as exc:
            raise CommandFailed(f"the share is recorded, but {exc}") from None
        print(f"Shared {end - start:,} characters to {target}", file=sys.stderr)
    else:
        _write(shared.text + "\n")
    if shared.label is None:
        print(
            "coauthor: the passage holds no model text: only the attribution was added",
            file=sys.stderr,
        )
    return 0


def cmd_cat(args: argparse.Namespace) -> int:
    with opened(args.project, readonly=True) as (_, project):
        chapter = project.find_chapter(args.chapter)
        _write(chapter.text.text, exact=True)
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from coauthor.store.verify import verify

    if Path(args.project).suffix.lower() in (
        ".epub",
        ".md",
        ".markdown",
        ".html",
        ".htm",
        ".docx",
        ".pdf",
    ):
        return _verify_export(args)
    if args.against or args.key:
        raise CommandFailed(
            "--project and --key apply to an export (.epub, .md, .html, .docx, .pdf)"
        )
    project_file = ProjectFile.open(args.project, readonly=True)
    try:
        result = verify(project_file)
    finally:
        project_file.close()
    if not result.ok:
        raise CommandFailed(f"{args.project}: {result.message}")
    print(f"{args.project}: OK, {result.message}")
    project = result.project
    keys = list(project.signing_keys.values()) if project is not None else []
    print(
        "What this means: every event follows the one before it, the whole history replays to "
        "the stored text and origins, every restore and approval is backed by it, and every "
        "table in the file agrees with it, so nothing was changed behind Coauthor's back "
        "short of rewriting the whole history. It does not prove that a person typed honestly."
    )
    if keys:
        print(
            "Signing keys recorded: "
            + ", ".join(f"{k.name or '(no name)'} ({k.fingerprint})" for k in keys)
        )
    else:
        print("No signing key is recorded yet (exports made so far were unsigned, or none).")
    return 0


def _verify_export(args: argparse.Namespace) -> int:
    """``coauthor verify`` of an export: its manifest, its texts, the signature."""
    from coauthor.publish.verify_export import (
        VerifyFailed,
        check_against_chain,
        describe,
        verify_export,
    )

    try:
        check = verify_export(Path(args.project), expect_key=args.key)
        against: list[str] = []
        if args.against:
            project_file = ProjectFile.open(args.against, readonly=True)
            try:
                events = project_file.events(upto=check.head[0])
                against = check_against_chain(check, events, args.against)
            finally:
                project_file.close()
    except VerifyFailed as exc:
        raise CommandFailed(f"{args.project}: {exc}") from None
    _write(describe(check, against))
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    project_file = ProjectFile.open(args.project, readonly=True)
    try:
        project = project_file.load()
        chapter = project.find_chapter(args.chapter)
        text = ProvenanceText()
        for event in project_file.events(chapter.id, args.event):
            apply_event(text, event)
    finally:
        project_file.close()
    _write(text.text, exact=True)
    return 0


def cmd_snapshot(args: argparse.Namespace) -> int:
    with opened(args.project, readonly=False) as (_, project):
        chapters = [project.find_chapter(args.chapter)] if args.chapter else None
        snapshot = project.take_snapshot(args.name, chapters)
    scope = f"“{chapters[0].title}”" if chapters else "the book"
    print(
        escape_controls(f"Took the snapshot “{snapshot.name}” of {scope} (event {snapshot.as_of})"),
        file=sys.stderr,
    )
    return 0


def cmd_snapshots(args: argparse.Namespace) -> int:
    from coauthor.app.snapshots import describe_snapshot, taken_at

    with opened(args.project, readonly=True) as (_, project):
        for number, snapshot in enumerate(project.named_snapshots, 1):
            _write(
                f"{number:>4}  {taken_at(snapshot)}  {snapshot.kind:<6}  event {snapshot.as_of:<8}"
                f"  {snapshot.name}  ({describe_snapshot(project, snapshot)})\n"
            )
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from coauthor.app.snapshots import compare
    from coauthor.core.snapdiff import describe_changes
    from coauthor.core.snapshots import SnapshotNotFound, find_snapshot

    with opened(args.project, readonly=True) as (project_file, project):
        try:
            old = find_snapshot(project.named_snapshots, args.old)
            new = find_snapshot(project.named_snapshots, args.new) if args.new else None
        except SnapshotNotFound as exc:
            raise CommandFailed(str(exc)) from None
        comparisons = compare(project_file, project, old, new)
    target = f"“{new.name}”" if new is not None else "the text now"
    lines = [f"From the snapshot “{old.name}” to {target}:"]
    for comparison in comparisons:
        if not comparison.changed:
            continue
        note = ""
        if comparison.old is None:
            note = " (not in the first)"
        elif comparison.new is None:
            note = " (not in the second)"
        count = len(comparison.changes)
        lines.append(f"== {comparison.title}{note}: {count} change{'' if count == 1 else 's'}")
        lines.extend(describe_changes(comparison.changes))
    if len(lines) == 1:
        lines.append("no differences")
    _write("\n".join(lines) + "\n")
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    from coauthor.app.review import NoTerminal, review_session

    try:
        review_session(args.project, reviewer=args.reviewer)
    except NoTerminal as exc:
        raise CommandFailed(str(exc)) from None
    except EOFError:
        raise CommandFailed(
            "the review ended at end of input; decisions made so far are saved"
        ) from None
    return 0


def _moderator(args: argparse.Namespace) -> OpenAIModerator | None:
    if args.moderation != "openai":
        return None
    from coauthor.ai import keys
    from coauthor.ai.moderation import OpenAIModerator

    key, _ = keys.get_key("openai")
    if not key:
        raise CommandFailed(
            f"--moderation openai needs an OpenAI key: set {keys.ENV_VARIABLE} or store one in the app"
        )
    moderator = OpenAIModerator(args.moderation_url, key)
    refusal = moderator.refusal()
    if refusal is not None:  # plain http:// to another computer: the key would be readable
        moderator.close()
        raise CommandFailed(f"--moderation-url: {refusal.rstrip('.')}")
    return moderator


def cmd_export(args: argparse.Namespace) -> int:
    # Loaded here: the exporters are not needed by the other commands.
    from coauthor.app.export import (
        ExportDiffers,
        ExportFormat,
        ExportOptions,
        check_export_target,
        export_book,
        read_checked,
        record_signing_key,
        signing_key,
    )
    from coauthor.publish.document import ExportRefused, ExportWriteError
    from coauthor.store.verify import ChainMismatch

    if args.format == "coauthor-log":
        return _export_research_log(args)
    if args.no_text or args.keep_names:
        raise CommandFailed("--no-text and --keep-names apply to the coauthor-log export only")
    fmt = ExportFormat(args.format)
    if args.folder and fmt is not ExportFormat.MARKDOWN:
        raise CommandFailed("--folder applies to the Markdown export only")
    if args.docx_style and fmt is not ExportFormat.DOCX:
        raise CommandFailed("--docx-style applies to the DOCX export only")
    if args.trim and fmt is not ExportFormat.PDF:
        raise CommandFailed("--trim applies to the PDF export only")
    options = ExportOptions(
        provenance_styling=args.provenance_styling,
        markdown_folder=args.folder,
        annotate=args.annotate,
        docx_style=args.docx_style or "manuscript",
        trim=args.trim or "5.5x8.5",
    )
    target = Path(args.out)
    try:
        # A target that cannot take the export is refused before anything is done.
        check_export_target(fmt, target, options, force=args.force)
        # The author's key signs the manifest; its public half goes into the chain first, so
        # the chain head the manifest names holds it.
        with opened(args.project, readonly=True) as (_, project):
            author, known = project.meta.author, set(project.signing_keys)
        key, unsigned = signing_key(author)
        if key is not None and key.fingerprint not in known:
            read_checked(args.project)  # nothing is written into a record that does not check out
            record_signing_key(args.project, key)
        notes: list[str] = []
        result = export_book(
            args.project,
            fmt,
            target,
            options=options,
            moderator=_moderator(args),
            template_dirs=[Path(d) for d in args.templates],
            key=key,
            unsigned_reason=unsigned,
            force=args.force,
            on_screening=lambda s: notes.extend(x for x in (s.error, s.note) if x),
        )
    except ExportRefused as exc:
        for line in exc.lines:
            print(f"coauthor: not exported: {escape_controls(line)}", file=sys.stderr)
        return 3
    except (ExportWriteError, ChainMismatch, ExportDiffers) as exc:
        raise CommandFailed(str(exc)) from None
    for note in notes:
        print(f"coauthor: {note}", file=sys.stderr)
    if key is not None:
        print(f"Signed by {key.name}, key {key.fingerprint}", file=sys.stderr)
    else:
        print(
            f"coauthor: not signed: {unsigned}; the manifest is hash-checked only", file=sys.stderr
        )
    print(f"Exported {fmt.value} to {result.path}", file=sys.stderr)
    return 0


def _export_research_log(args: argparse.Namespace) -> int:
    """``coauthor export --format coauthor-log``: the history as CoAuthor study logs, one per
    chapter, with no review gate (data about the writing, not a publication)."""
    from coauthor.app.export import read_checked
    from coauthor.publish.document import ExportWriteError
    from coauthor.publish.research_log import (
        ResearchLogFailed,
        check_log_folder,
        export_research_logs,
    )
    from coauthor.store.verify import ChainMismatch

    for flag, given in (("--folder", args.folder), ("--annotate", args.annotate)):
        if given:
            raise CommandFailed(f"{flag} does not apply to the coauthor-log export")
    out = Path(args.out)
    try:
        check_log_folder(out, force=args.force)
        project = read_checked(args.project)  # the record checks out, or nothing is written
        project_file = ProjectFile.open(args.project, readonly=True)
        try:
            last = project.history.last_seq
            result = export_research_logs(
                project,
                lambda chapter_id: project_file.events(chapter_id, last),
                out,
                text=not args.no_text,
                keep_names=args.keep_names,
                force=args.force,
            )
        finally:
            project_file.close()
    except (ExportWriteError, ChainMismatch, ResearchLogFailed) as exc:
        raise CommandFailed(str(exc)) from None
    chapters = len(result.files) - 1
    print(
        f"Exported {chapters} research log{'' if chapters == 1 else 's'} "
        f"({result.events:,} events{'' if result.text else ', without text'}) to {out}",
        file=sys.stderr,
    )
    pending = result.unreviewed
    print(
        "coauthor: these logs are data about the writing and are not gated by review"
        + (
            f": they hold {pending} generation{'' if pending == 1 else 's'} not reviewed yet"
            if pending
            else ""
        )
        + f"; see {out / 'README.md'} before sharing them",
        file=sys.stderr,
    )
    return 0


def cmd_screen(args: argparse.Namespace) -> int:
    from coauthor.app.export import screen_project

    with opened(args.project, readonly=True) as (_, project):
        summary = screen_project(project, _moderator(args))
    titles = {c.id: (n, c.title) for n, c in enumerate(project.chapters, 1)}
    if summary.error:
        print(f"coauthor: {summary.error}", file=sys.stderr)
    for flag in summary.flags:
        number, title = titles.get(flag.chapter_id, (0, "?"))
        state = (
            f"overridden by {flag.override_by}: {flag.override}"
            if flag.override
            else "blocks export"
        )
        _write(
            f"{flag.text_hash}  chapter {number} ({title}) {flag.start}-{flag.end}  "
            f"{', '.join(flag.categories)}  [{state}]\n"
        )
    print(f"coauthor: {summary.note}; {len(summary.flags)} passage(s) flagged", file=sys.stderr)
    return 0


def cmd_override(args: argparse.Namespace) -> int:
    from coauthor.app.export import screen_project

    with opened(args.project, readonly=False) as (_, project):
        summary = screen_project(project, None)
        matching = [f for f in summary.flags if f.text_hash == args.passage]
        if not matching:
            raise CommandFailed(
                f"no flagged passage has the id {args.passage} (see coauthor screen)"
            )
        project.record_override(args.passage, matching[0].categories, args.reason, args.by)
    print(f"Recorded the override for {args.passage}", file=sys.stderr)
    return 0


def cmd_report_generation(args: argparse.Namespace) -> int:
    from coauthor.publish.document import ExportWriteError
    from coauthor.publish.generation_report import report_generation

    with opened(args.project, readonly=False) as (_, project):
        problem = project.report_refusal(args.generation, args.category, args.reason)
        if problem:
            raise CommandFailed(problem)
        try:
            bundle = report_generation(
                project,
                args.generation,
                args.category,
                args.reason,
                by=args.by or project.meta.author,
                include_context=args.context,
                target=Path(args.out),
            )
        except ExportWriteError as exc:
            raise CommandFailed(str(exc)) from None
    context = "with" if args.context else "without"
    print(
        escape_controls(
            f"Wrote the report of {args.generation} ({args.category}, {context} the surrounding "
            f"text) to {bundle.path.resolve()} and recorded it in the book's history.\n"
            + bundle.data["what_to_do"]
        ),
        file=sys.stderr,
    )
    return 0


def cmd_log(args: argparse.Namespace) -> int:
    project_file = ProjectFile.open(args.project, readonly=True)
    try:
        project = project_file.load()
        chapter_id = project.find_chapter(args.chapter).id if args.chapter else None
        titles = {c.id: c.title for c in [*project.chapters, *project.removed_chapters]}
        for event in project_file.events(chapter_id):
            what = _describe(event.kind, event.deleted, event.inserted, event.payload)
            source = ""
            if event.origin is not None:
                source = event.origin.value + (f":{event.ref}" if event.ref else "")
            _write(
                f"{event.seq:>8} {event.time:>14} {titles.get(event.chapter, '-')[:20]:<20} "
                f"{event.pos:>8} {source:<14} {what}\n"
            )
    finally:
        project_file.close()
    return 0


def _describe(kind: str, deleted: str, inserted: str, payload: str | None) -> str:
    if kind == "m":
        return _describe_fact(payload)

    def short(text: str) -> str:
        return json.dumps(text if len(text) <= 40 else text[:39] + "…", ensure_ascii=False)

    parts = []
    if deleted:
        parts.append(f"-{short(deleted)}")
    if inserted:
        parts.append(("moved " if kind == "r" else "+") + short(inserted))
    return " ".join(parts)


def _describe_fact(payload: str | None) -> str:
    """One line for a fact event: its kind and what matters of it (not whole prompts)."""
    try:
        data = json.loads(payload or "{}")
    except ValueError:
        return payload or ""
    if not isinstance(data, dict):
        return payload or ""
    op = str(data.get("op", "?"))
    if op == "generation":
        record = data.get("record") or data
        return (
            f"generation {record.get('id')} ({record.get('provider', '?')}, "
            f"{record.get('model', '?')}, {record.get('outcome', '?')}, "
            f"{len(str(record.get('output', '')))} characters)"
        )
    if op == "review":
        shown = data.get("shown_ms")
        seen = f", shown {shown / 1000:.1f} s" if isinstance(shown, int | float) else ""
        return (
            f"review {data.get('generation')} {data.get('state')} by {data.get('reviewer')!r}{seen}"
        )
    if op == "import":
        record = data.get("record") or data
        return f"import {record.get('id')} from {record.get('source')}"
    if op == "book":
        return (
            f"book details: {data.get('title')!r} by {data.get('author') or data.get('company')!r}"
        )
    if op == "key":
        return f"signing key {data.get('fingerprint')} of {data.get('name')!r}"
    if op == "snapshot":
        return (
            f"snapshot {data.get('name')!r} ({data.get('kind')}) of the state after event "
            f"{data.get('as_of')}"
        )
    details = {k: v for k, v in data.items() if k != "op"}
    return f"{op} {json.dumps(details, ensure_ascii=False, sort_keys=True)}" if details else op


def _event_number(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError("the event number must be 0 or more")
    return number


def cmd_install_desktop(_args: argparse.Namespace) -> int:
    from coauthor.app import desktop

    try:
        report = desktop.install()
    except OSError as exc:
        raise CommandFailed(f"the desktop files could not be installed: {exc}") from exc
    print("\n".join(report.lines("Installed")), file=sys.stderr)
    return 0


def cmd_uninstall_desktop(_args: argparse.Namespace) -> int:
    from coauthor.app import desktop

    try:
        report = desktop.uninstall()
    except OSError as exc:
        raise CommandFailed(f"the desktop files could not be removed: {exc}") from exc
    print("\n".join(report.lines("Removed") or ["Nothing to remove"]), file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coauthor",
        description="Write books with a language model, with a record of who wrote every "
        "character. With no command, starts the editor.",
    )
    parser.add_argument("--version", action="version", version=f"coauthor {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("new", help="create a project")
    p.add_argument("project", help="the .coauthor file to create")
    p.add_argument("--title", required=True)
    p.add_argument("--author", default="")
    p.add_argument("--company", default="")
    p.add_argument("--language", default="en")
    p.set_defaults(func=cmd_new)

    p = sub.add_parser(
        "import", help="import Markdown, text, Word (.docx), OpenDocument (.odt) or CoAuthor logs"
    )
    p.add_argument("sources", nargs="+", metavar="SOURCE")
    p.add_argument("--into", required=True, metavar="PROJECT", help="created if missing")
    p.add_argument("--encoding", help="the text encoding of the sources (default UTF-8)")
    p.add_argument(
        "--own-writing",
        action="store_true",
        help="declare that the imported text is the author's own writing",
    )
    p.add_argument(
        "--keep-line-breaks",
        action="store_true",
        help="plain text: keep every line break (by default hard-wrapped lines are joined)",
    )
    p.add_argument(
        "--markup",
        choices=("markdown", "plain"),
        help="read the chapters as Markdown (emphasis, scene breaks... are rendered) or as plain "
        "text (every character shown as it is); by default Markdown, Word and OpenDocument "
        "files are Markdown, text files and CoAuthor logs plain",
    )
    p.add_argument("--title", help="the book title, when the project is created")
    p.add_argument("--author", help="the author, when the project is created")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("stats", help="characters and words by origin; --by-day: writing per day")
    p.add_argument("project")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument(
        "--by-day",
        action="store_true",
        help="words written per day by origin (typed, model, pasted, imported), characters "
        "deleted and restored, sessions and time writing, from the history",
    )
    p.add_argument("--csv", action="store_true", help="with --by-day: print CSV")
    p.add_argument("--utc", action="store_true", help="with --by-day: days in UTC, not local")
    p.add_argument(
        "--no-cache",
        action="store_true",
        help="with --by-day: read the whole history, using neither the summary the file "
        "keeps nor the one cached in $COAUTHOR_CACHE_DIR (default ~/.cache/coauthor), and "
        "writing nothing",
    )
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser(
        "share",
        help="share a passage as labelled text or a PNG card (after the review gate; recorded "
        "in the history)",
    )
    p.add_argument("project")
    p.add_argument("--chapter", required=True, metavar="TITLE_OR_NUMBER")
    p.add_argument("--start", type=int, help="the passage's first character (default 0)")
    p.add_argument("--end", type=int, help="the character after the passage (default: the end)")
    form = p.add_mutually_exclusive_group()
    form.add_argument(
        "--out", metavar="FILE", help="write the text there (default: standard output)"
    )
    form.add_argument(
        "--image",
        metavar="FILE.png",
        help="write the passage as a labelled PNG card (up to 1,500 characters)",
    )
    p.set_defaults(func=cmd_share)

    p = sub.add_parser("cat", help="print a chapter's exact text")
    p.add_argument("project")
    p.add_argument("--chapter", required=True, metavar="TITLE_OR_NUMBER")
    p.set_defaults(func=cmd_cat)

    p = sub.add_parser(
        "verify", help="check a project's history, or an export against its signed manifest"
    )
    p.add_argument(
        "project", metavar="FILE", help="a .coauthor project or an .epub/.md/.html/.docx/.pdf"
    )
    p.add_argument(
        "--project",
        dest="against",
        metavar="BOOK.coauthor",
        help="export: also check that its manifest's head and figures come from this project",
    )
    p.add_argument("--key", metavar="FINGERPRINT", help="export: fail unless signed by this key")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("replay", help="print a chapter as it was after an event")
    p.add_argument("project")
    p.add_argument("--chapter", required=True, metavar="TITLE_OR_NUMBER")
    p.add_argument("--event", required=True, type=_event_number, metavar="N")
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser("snapshot", help="name the state of the book or a chapter as it is now")
    p.add_argument("project")
    p.add_argument("--name", required=True)
    p.add_argument("--chapter", metavar="TITLE_OR_NUMBER", help="one chapter (default: the book)")
    p.set_defaults(func=cmd_snapshot)

    p = sub.add_parser("snapshots", help="list the named snapshots with their dates")
    p.add_argument("project")
    p.set_defaults(func=cmd_snapshots)

    p = sub.add_parser(
        "diff", help="print what changed since a snapshot, with the origin of every change"
    )
    p.add_argument("project")
    p.add_argument(
        "--from", dest="old", required=True, metavar="NAME", help="a snapshot's name or number"
    )
    p.add_argument(
        "--to", dest="new", metavar="NAME", help="another snapshot (default: the text now)"
    )
    p.set_defaults(func=cmd_diff)

    p = sub.add_parser("review", help="review pending generations in the terminal")
    p.add_argument("project")
    p.add_argument("--reviewer", help="your name, recorded with each review")
    p.set_defaults(func=cmd_review)

    p = sub.add_parser(
        "export", help="export the book (after the review gate), or its research logs"
    )
    p.add_argument("project")
    p.add_argument(
        "--format",
        required=True,
        choices=["epub", "markdown", "html", "report", "docx", "pdf", "coauthor-log"],
        help="coauthor-log: the history as CoAuthor study logs, one per chapter, in the folder "
        "--out (not gated by review: data about the writing)",
    )
    p.add_argument("--out", required=True, metavar="FILE")
    p.add_argument(
        "--no-text",
        action="store_true",
        help="coauthor-log: the events with their lengths and sources, without the text",
    )
    p.add_argument(
        "--keep-names",
        action="store_true",
        help="coauthor-log: keep the author's and reviewers' names (left out by default)",
    )
    p.add_argument(
        "--folder", action="store_true", help="Markdown: one file per chapter in a folder"
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="Markdown --folder and coauthor-log: export into a folder that is not empty",
    )
    p.add_argument("--annotate", action="store_true", help="Markdown: mark AI text inline")
    p.add_argument(
        "--provenance-styling",
        action="store_true",
        help="EPUB/HTML/DOCX/PDF: subtly mark AI passages",
    )
    p.add_argument(
        "--docx-style",
        choices=["manuscript", "book"],
        help="DOCX: standard manuscript format (the default) or a book-like layout",
    )
    p.add_argument(
        "--trim",
        choices=["5x8", "5.5x8.5", "6x9", "a5"],
        help="PDF: the page size, in inches or A5 (default 5.5x8.5)",
    )
    p.add_argument(
        "--templates",
        action="append",
        default=[],
        metavar="DIR",
        help="a folder whose templates override the built-in ones",
    )
    _moderation_arguments(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("screen", help="screen the text for content-policy problems")
    p.add_argument("project")
    _moderation_arguments(p)
    p.set_defaults(func=cmd_screen)

    p = sub.add_parser("override", help="record why a flagged passage may be published")
    p.add_argument("project")
    p.add_argument(
        "--passage", required=True, metavar="ID", help="the id printed by coauthor screen"
    )
    p.add_argument("--reason", required=True)
    p.add_argument("--by", required=True, metavar="NAME")
    p.set_defaults(func=cmd_override)

    p = sub.add_parser(
        "report-generation",
        help="write a file reporting a problematic generation to its provider (sends nothing)",
    )
    p.add_argument("project")
    p.add_argument("--generation", required=True, metavar="ID", help="e.g. g3 (see coauthor log)")
    p.add_argument("--reason", required=True, help="what is wrong with it")
    p.add_argument(
        "--category",
        choices=REPORT_CATEGORIES,
        default="policy violation",
        metavar="CATEGORY",
        help=f"one of: {', '.join(REPORT_CATEGORIES)} (default: policy violation)",
    )
    p.add_argument(
        "--context", action="store_true", help="include up to 1,000 characters either side"
    )
    p.add_argument("--by", metavar="NAME", help="who reports it (default: the book's author)")
    p.add_argument("--out", required=True, metavar="FILE", help="the report file (.zip)")
    p.set_defaults(func=cmd_report_generation)

    p = sub.add_parser("log", help="list the history's events")
    p.add_argument("project")
    p.add_argument("--chapter", metavar="TITLE_OR_NUMBER")
    p.set_defaults(func=cmd_log)

    p = sub.add_parser(
        "install-desktop",
        help="add Coauthor to this user's applications menu and open .coauthor files with it",
    )
    p.set_defaults(func=cmd_install_desktop)
    p = sub.add_parser("uninstall-desktop", help="remove what install-desktop added")
    p.set_defaults(func=cmd_uninstall_desktop)
    return parser


def _moderation_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--moderation",
        choices=["offline", "openai"],
        default="offline",
        help="offline phrase checker (default) or the OpenAI moderation endpoint",
    )
    p.add_argument("--moderation-url", default="https://api.openai.com/v1", help=argparse.SUPPRESS)


def _start_gui(argv: Sequence[str]) -> int:
    try:
        from coauthor.ui.app import run
    except ImportError as exc:
        print(f"coauthor: the editor cannot start: {exc}", file=sys.stderr)
        return 1
    return run(list(argv))


def _is_book_argument(arg: str) -> bool:
    """A book to open in the editor: ``NAME.coauthor``, or any existing file named by its
    absolute path (a launcher's ``coauthor %f`` for a project recognised by its content)."""
    return arg.endswith(".coauthor") or (os.path.isabs(arg) and os.path.isfile(arg))


def _loaded_errors() -> tuple[type[Exception], ...]:
    """The importers' ``ImportFailed`` if they were loaded (only ``import`` loads them, and an
    exception of theirs cannot come from a module that was never imported)."""
    errors = sys.modules.get("coauthor.importers.errors")
    return (errors.ImportFailed,) if errors is not None else ()


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not args_list or (len(args_list) == 1 and _is_book_argument(args_list[0])):
        return _start_gui(args_list)
    args = parser.parse_args(args_list)
    if args.command is None:
        return _start_gui(args_list)
    try:
        return args.func(args)
    except (ProjectFileError, ProjectError, CommandFailed, *_loaded_errors()) as exc:
        # One line, even when the message quotes text from a damaged file.
        print("coauthor: " + escape_controls(" ".join(str(exc).splitlines())), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("coauthor: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (``coauthor cat … | head``): not an error of ours.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as exc:
        # A bug of ours: one line for the author, the traceback only when asked for.
        if os.environ.get("COAUTHOR_DEBUG"):
            raise
        print(
            f"coauthor: unexpected error ({type(exc).__name__}: "
            f"{escape_controls(' '.join(str(exc).splitlines()))}); the failed step changed "
            "nothing. Set COAUTHOR_DEBUG=1 to see the details.",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
