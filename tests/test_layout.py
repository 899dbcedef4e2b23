import subprocess
import sys


def test_the_service_and_the_import_never_load_torch():
    code = (
        "import sys, service.app, nerd.cli.main, nerd.bundle_archive\n"
        "import annotation.importing, annotation.prompts\n"
        "heavy = sorted(m for m in ('torch', 'transformers') if m in sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
