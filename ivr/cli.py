"""`ivr-line`: run the line, check its content, try it from a terminal.

    ivr-line serve [--host H] [--port P] [--workers N]   the webhook server (gunicorn)
    ivr-line check                                       validate catalogue, prompts, translations
    ivr-line call [--url URL] [--from NUMBER]            play a call in the terminal
    ivr-line text "fraud" [--url URL] [--from NUMBER]    print the SMS reply
    ivr-line translate --to pl [--from en] [--redo]      machine-draft missing strings (fuzzy)
    ivr-line forms [LANG...]                             regenerate inflected forms for matching
    ivr-line safety train                                retrain the danger model from its corpus
    ivr-line safety report [--folds K] [--misses]        recall and false alarms per language
    ivr-line export openreferral DIR                     the catalogue as Open Referral UK files
    ivr-line import openreferral SOURCE [--into DIR]     a catalogue from an Open Referral directory
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path


def _app():
    from . import create_app
    return create_app()


def _transport(args):
    """In-process by default (embedded Redis, nothing to start); over HTTP with --url."""
    from . import config, sessions
    from .simulator import Transport

    if args.url:
        token = os.environ.get("TWILIO_AUTH_TOKEN") or sessions.local_secret(
            config.from_environment()["DATA_DIR"], "local-auth-token")
        return Transport(token, base_url=args.url)
    app = _app()
    # A terminal try-out that had to start the embedded Redis stops it when it is done
    # (a running `ivr-line serve` started its own, and keeps it).
    import atexit
    atexit.register(lambda: [sessions.stop_embedded(d) for d in list(sessions.STARTED)])
    return Transport(app.config["SIGNING_TOKEN"], app=app, base_url="http://localhost")


def serve(args) -> int:
    from gunicorn.app.base import BaseApplication

    from . import gunicorn_conf

    class Server(BaseApplication):
        def load_config(self):
            for key in ("workers", "worker_class", "timeout", "graceful_timeout", "keepalive",
                        "max_requests", "max_requests_jitter", "errorlog", "forwarded_allow_ips",
                        "preload_app", "pre_fork"):
                self.cfg.set(key, getattr(gunicorn_conf, key))
            self.cfg.set("bind", f"{args.host}:{args.port}")
            if args.workers:
                self.cfg.set("workers", args.workers)

        def load(self):
            return _app()

    print(f"ivr-line: answering Twilio webhooks on http://{args.host}:{args.port}"
          " (POST /voice, POST /sms, POST /fallback, GET /healthz)", file=sys.stderr)
    from . import config, sessions
    cfg = config.from_environment()
    try:
        Server().run()
    finally:
        if not cfg["REDIS_URL"]:
            sessions.stop_embedded(cfg["DATA_DIR"])   # the workers have gone; save and stop
    return 0


def number_differences(locales_dir, code: str) -> list[tuple[str, str]]:
    """Translations whose numbers, addresses or SSML differ from the English: worth a
    reviewer's look (a number written as a word is fine; a lost "999" is not)."""
    from babel.messages.pofile import read_po

    from .translate import protected_errors
    path = locales_dir / code / "LC_MESSAGES" / "messages.po"
    if code == "en" or not path.exists():
        return []
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=code)
    return [(m.context, "; ".join(protected_errors(m.id, m.string)))
            for m in catalog if m.id and m.string and protected_errors(m.id, m.string)]


def check(args) -> int:
    from . import config, segments
    from .safety import train as safety_train
    from .catalogue import CatalogueError
    from .i18n import load_languages, po_status, source_messages
    from .line import build

    cfg = config.from_environment()
    try:
        line = build(cfg)
    except (CatalogueError, ValueError, KeyError) as exc:
        print(f"catalogue or prompts are invalid: {exc}")
        return 1
    cat = line.catalogue
    print(f"catalogue: {len(cat.services)} services in {len(cat.categories)} categories: ok")
    for clash in cat.clashes:
        print(f"  clash: {clash}")
    expected = source_messages(cfg["CATALOGUE_DIR"], cfg["PROMPTS_DIR"])
    print(f"prompts and catalogue: {len(expected)} messages to translate")
    problems = 0
    from .i18n import placeholder_errors
    for code, lang in load_languages(cfg["LOCALES_DIR"]).items():
        errors = placeholder_errors(cfg["LOCALES_DIR"], code)
        problems += len(errors)
        if code == "en":
            status_line = "source"
        else:
            st = po_status(cfg["LOCALES_DIR"], code, expected)
            status_line = (f"translated {st.translated}, fuzzy {st.fuzzy}, missing {st.missing}, "
                           f"placeholder errors {len(errors)}")
        offered = "offered" if code in line.offered else "not offered"
        seg = ""
        if code in line.texts:
            from .sms import for_sms
            counts = [segments.segments(for_sms(line, code, line.sms(code, s.id))) for s in cat.services.values()]
            alert = segments.segments(for_sms(line, code, line.texts[code].prompt("sms_emergency", **line.numbers)))
            seg = (f"; SMS segments per signpost max {max(counts)}, mean {sum(counts) / len(counts):.1f}"
                   f"; 999 line {alert}")
        print(f"  {code} {lang.english} ({lang.native}): {status_line}; {offered}{seg}")
        for err in errors:
            print(f"    placeholder error: {err}")
        for context, diff in number_differences(cfg["LOCALES_DIR"], code):
            print(f"    to review: {context}: {diff} (a number, address or tag of the English)")
    for code in line.offered:
        nowhere = words_leading_nowhere(line, code)
        print(f"  {code}: catalogue words that lead nowhere when texted or said alone: "
              + (", ".join(nowhere) if nowhere else "none"))
    stale = safety_train.is_stale(cfg["CATALOGUE_DIR"] / "emergency")
    if stale:
        print(f"danger model: {stale}")
    else:
        print("danger model: up to date with its corpus (thresholds "
              + ", ".join(f"{k} {v:.2f}" for k, v in line.safety.model.thresholds.items()) + ")")
    return 1 if problems or cat.clashes or stale else 0


def words_leading_nowhere(line, code: str) -> list[str]:
    """Words of the catalogue's titles, keywords and synonyms in a language that, texted
    alone, find no service, category or choice (in that language or English): each is a
    keyword to add, or too general to mean one thing ("police")."""
    from .text import fold
    texts, words = line.texts[code], set()
    for svc in line.catalogue.services.values():
        for phrase in (texts.field(svc.id, "title", svc.title), *texts.words(svc.id, "keywords", svc.keywords),
                       *texts.words(svc.id, "synonyms", svc.synonyms)):
            words.update(w for w in fold(phrase).split() if len(w) >= 4 and not w.isdigit())
    kinds = {"service", "category", "language", "sms"}
    return sorted(w for w in words if not line.match(code, w, kinds) and not line.topic(code, w))


def catalogue_words() -> dict[str, set[str]]:
    """Every title, keyword and synonym of the catalogue, and each of their words alone
    ("knife" leads to a signpost, not to 999), per offered language."""
    from . import config
    from .line import build
    from .text import fold
    line = build(config.from_environment())
    out: dict[str, set[str]] = {}
    for code in line.offered:
        texts, words = line.texts[code], out.setdefault(code, set())
        for svc in line.catalogue.services.values():
            words.add(texts.field(svc.id, "title", svc.title))
            words.update(texts.words(svc.id, "keywords", svc.keywords))
            words.update(texts.words(svc.id, "synonyms", svc.synonyms))
        for cat in line.catalogue.categories:
            words.add(texts.field(cat.id, "title", cat.title))
            words.update(texts.words(cat.id, "keywords", cat.keywords))
        words.update(w for phrase in list(words) for w in fold(phrase).split() if len(w) >= 3)
    return out


def safety(args) -> int:
    """Train the danger model, or print how well danger is recognised per language."""
    from . import config
    from .safety import report
    from .safety import train as safety_train

    directory = config.from_environment()["CATALOGUE_DIR"] / "emergency"
    if args.action == "train":
        from .safety import MODEL_FILE, Model, corpus
        try:
            if (directory / MODEL_FILE).exists():
                Model.load(directory / MODEL_FILE)
        except ValueError:
            # Made for other features: the line cannot load it to list its words, and
            # this command is about to make it anew.
            (directory / MODEL_FILE).unlink()
        corpus.write_catalogue(directory, catalogue_words())
        try:
            model = safety_train.train(directory)
        except ImportError:
            print("training needs scikit-learn: pip install -e '.[train]'", file=sys.stderr)
            return 1
        print(f"trained on {model.header['examples']} texts in {', '.join(model.languages)}; "
              "thresholds " + ", ".join(f"{k} {v:.2f}" for k, v in model.thresholds.items())
              + f" -> {directory / 'model.bin'}")
        return 0
    stale = safety_train.is_stale(directory)
    if stale:
        print(stale, file=sys.stderr)
        return 1
    lines = [f"# Danger recognition: word lists or model (targets: recall >= "
             f"{report.TARGET_RECALL:.0%}, false alarms <= {report.TARGET_FALSE_ALARMS:.0%})", ""]
    tests = report.test_split(directory)
    lines += report.table("Test split (written apart, never trained on; the shipped model)", tests)
    folds = None
    if args.folds > 1:
        try:
            folds = report.kfold(directory, args.folds)
        except ImportError:
            print("k-fold figures need scikit-learn: pip install -e '.[train]'", file=sys.stderr)
            return 1
        lines += report.table(f"{args.folds}-fold cross-validation on the training corpus", folds)
    own = report.catalogue_words(directory)
    lines += ["## The line's own titles and keywords given the 999 line", "",
              ", ".join(f"{lang} {t.alarms}/{t.safe}" for lang, t in sorted(own.items())), ""]
    if args.misses:
        lines += report.listing("The line's own words given the 999 line", own, limit=1000)
        lines += report.listing("Test split: misses and false alarms", tests, limit=1000)
        if folds:
            lines += report.listing("Cross-validation: misses and false alarms", folds, limit=1000)
    print("\n".join(lines))
    met = all(t.meets() for t in tests.values()) and all(t.meets() for t in (folds or {}).values())
    return 0 if met else 1


def translate(args) -> int:
    """Draft a language's missing strings with argos-translate (the `[mt]` extra)."""
    from . import config
    from .translate import Unavailable, draft

    locales = config.from_environment()["LOCALES_DIR"]
    po_path = locales / args.to / "LC_MESSAGES" / "messages.po"
    try:
        report = draft(po_path, locales / "messages.pot", args.to, args.source, redo=args.redo)
    except Unavailable as exc:
        print(exc, file=sys.stderr)
        return 1
    print(report.summary())
    print(f"written: {po_path} (drafts are fuzzy: reviewed by a native speaker, then unflagged)")
    return 0


def call(args) -> int:
    from .simulator import Phone

    phone = Phone(_transport(args), caller=args.caller)
    turn = phone.dial()
    print("Keys: 0-9, * and # as on a phone; words are speech; an empty line is silence; "
          "Ctrl-D hangs up.\n")
    while True:
        for heard in turn.said:
            print(f"  [{heard.language or '?'}] {heard.text}")
        if turn.hangup or turn.gather is None:
            print("-- the line hung up --")
            return 0
        try:
            answer = input("> ").strip()
        except (EOFError, KeyboardInterrupt):
            print("\n-- you hung up --")
            return 0
        if not answer:
            turn = phone.silence()
        elif all(ch in "0123456789*#" for ch in answer):
            turn = phone.press(answer)
        else:
            turn = phone.say(answer)


def text(args) -> int:
    from .simulator import text as send

    print(send(_transport(args), " ".join(args.body), sender=args.caller))
    return 0


def forms(args) -> int:
    """Regenerate locales/<lang>/forms.json (inflected forms of the catalogue's words)."""
    from . import config, inflections
    from .line import build

    cfg = config.from_environment()
    line = build(cfg)
    codes = args.lang or line.offered
    for code in codes:
        if code not in line.texts or not inflections.supported(code):
            print(f"{code}: no simplemma dictionary; matching uses exact words and typos only")
            continue
        words = inflections.vocabulary(line.texts[code], line.catalogue)
        table = inflections.forms_table(code, words)
        path = inflections.write(cfg["LOCALES_DIR"], code, table)
        print(f"{code}: {len(table)} forms of {len(words)} words -> {path}")
    return 0


def export(args) -> int:
    """Write the documents /openreferral/ serves, as files."""
    from . import config, openreferral
    from .line import build

    cfg = config.from_environment()
    line = build(cfg)
    written = openreferral.export(line, args.dir, openreferral.catalogue_modified(cfg["CATALOGUE_DIR"]))
    print(f"{len(line.catalogue.services)} services, {len(written)} files -> {args.dir}")
    return 0


def import_(args) -> int:
    """Make a catalogue from an Open Referral UK dataset: a file, a folder or an API URL."""
    from . import catalogue, config, openreferral

    cfg = config.from_environment()
    base = catalogue.load(cfg["CATALOGUE_DIR"])
    try:
        docs = openreferral.read_source(args.source)
    except (OSError, ValueError) as exc:
        print(f"cannot read {args.source}: {exc}", file=sys.stderr)
        return 1
    imported = openreferral.import_services(docs, base)
    for reason in imported.refused:
        print(f"refused: {reason}", file=sys.stderr)
    if not imported.services:
        print("no service could be used; nothing written", file=sys.stderr)
        return 1
    openreferral.write_catalogue(imported, args.into, cfg["CATALOGUE_DIR"] / "emergency")
    try:
        loaded = catalogue.load(args.into)
    except catalogue.CatalogueError as exc:
        print(f"written, but the catalogue is not valid yet: {exc}", file=sys.stderr)
        return 1
    print(f"{len(loaded.services)} services in {len(loaded.categories)} categories -> {args.into} "
          f"({len(imported.refused)} refused). Try it: IVR_CATALOGUE_DIR={args.into} ivr-line call")
    return 0


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    quiet = bool(words) and words[0] != "serve"
    # Trying the line in a terminal needs no warnings about webhooks; serving it does.
    logging.basicConfig(level=os.environ.get("IVR_LOG_LEVEL", "ERROR" if quiet else "WARNING"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="ivr-line", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="run the webhook server")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5000")))
    p.add_argument("--workers", type=int, default=0, help="default: WEB_CONCURRENCY or 2")
    p.set_defaults(func=serve)
    p = sub.add_parser("check", help="validate the catalogue, prompts and translations")
    p.set_defaults(func=check)
    p = sub.add_parser("translate", help="machine-draft a language's missing strings (fuzzy)")
    p.add_argument("--to", required=True, help="language code, e.g. pl")
    p.add_argument("--from", dest="source", default="en", help="source language (default en)")
    p.add_argument("--redo", action="store_true", help="draft unreviewed machine drafts again")
    p.set_defaults(func=translate)
    p = sub.add_parser("forms", help="regenerate inflected forms for matching (uses simplemma)")
    p.add_argument("lang", nargs="*", help="language codes (default: every offered language)")
    p.set_defaults(func=forms)
    p = sub.add_parser("safety", help="train the danger model, or report how well it works")
    p.add_argument("action", choices=["train", "report"])
    p.add_argument("--folds", type=int, default=5, help="k for k-fold figures (1: test split only)")
    p.add_argument("--misses", action="store_true", help="list every miss and false alarm")
    p.set_defaults(func=safety)
    p = sub.add_parser("export", help="write the catalogue as Open Referral UK JSON files")
    p.add_argument("format", choices=["openreferral"])
    p.add_argument("dir", type=Path)
    p.set_defaults(func=export)
    p = sub.add_parser("import", help="make a catalogue from an Open Referral UK directory")
    p.add_argument("format", choices=["openreferral"])
    p.add_argument("source", help="a JSON file, a folder of them, or an API's URL (…/openreferral)")
    p.add_argument("--into", type=Path, default=Path("catalogue-openreferral"),
                   help="the catalogue folder to write (default: catalogue-openreferral)")
    p.set_defaults(func=import_)
    for name, func, helptext in (("call", call, "play a call in the terminal"),
                                 ("text", text, "send one text and print the reply")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--url", help="a running line, e.g. http://127.0.0.1:5000 (default: in-process)")
        p.add_argument("--from", dest="caller", default="+447700900123", help="the caller's number")
        if name == "text":
            p.add_argument("body", nargs="+", help="the message")
        p.set_defaults(func=func)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
