"""Translator's self-check for one language: `python tools/check_language.py pl`.

Loads the line with the language's .po, and reports: missing/fuzzy entries, placeholder
mismatches, and every service whose first two translated keywords do not lead back to it
by SMS in that language.
"""
import re
import sys
import tempfile
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ivr import config  # noqa: E402
from ivr.i18n import po_status, source_messages  # noqa: E402
from ivr.line import build  # noqa: E402
from ivr.sms import SmsState, reply  # noqa: E402
from ivr import signpost  # noqa: E402

code = sys.argv[1]
cfg = config.from_environment()
cfg["AUTO_LANGUAGES"] = [code]
expected = source_messages(cfg["CATALOGUE_DIR"], cfg["PROMPTS_DIR"])
status = po_status(cfg["LOCALES_DIR"], code, expected)
print(f"{code}: translated {status.translated}, fuzzy {status.fuzzy}, missing {status.missing}")
for key in status.missing_keys[:20]:
    print("  missing:", key)
po = read_po(open(ROOT / "locales" / code / "LC_MESSAGES" / "messages.po", "rb"), locale=code)
bad = 0
for msg in po:
    if not msg.id or not msg.string:
        continue
    want = sorted(re.findall(r"\{[a-z_]+\}", msg.id))
    got = sorted(re.findall(r"\{[a-z_]+\}", msg.string))
    if want != got:
        bad += 1
        print(f"  placeholder mismatch in {msg.context}: {want} vs {got}")
line = build(cfg)
if code not in line.offered:
    print("  not offered (incomplete)")
    sys.exit(1)
texts = line.texts[code]
fails = 0
for svc in line.catalogue.services.values():
    words = texts.words(svc.id, "keywords", svc.keywords)
    for word in words[:2]:
        _, text = reply(SmsState(lang=code), word, line)
        want = signpost.sms(texts, svc).split("\n")[0][:30]
        if want not in text:
            fails += 1
            print(f"  keyword {word!r} of {svc.id} does not lead back to it: {text[:70]!r}")
print(f"placeholder errors: {bad}; keyword failures: {fails}")
