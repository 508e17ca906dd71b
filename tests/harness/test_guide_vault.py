"""The secrets a scripted guided session carries across a stop: private, out of the report."""

import json
import stat
from pathlib import Path

import pytest

from harness.guide.vault import VAULT_FOLDER, Vault, VaultError, default_folder
from harness.redaction import Secret, known_secrets

SEED = "JBSWY3DPEHPK3PXPJBSWY3DP"


@pytest.fixture
def places(tmp_path: Path) -> tuple[Path, Path, Path]:
    """The vault's folder, the report folder and a repository, apart."""
    return tmp_path / "vault", tmp_path / "report", tmp_path / "repository"


def test_keeps_secrets_across_runs_readable_by_its_owner_alone(places) -> None:
    folder, report, repository = places
    Vault("abc123", folder, report, repository).put("totp-seed", SEED)
    again = Vault("abc123", folder, report, repository)
    value = again.get("totp-seed")
    assert isinstance(value, Secret) and value == SEED
    assert SEED in known_secrets()
    assert stat.S_IMODE(again.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert again.get("recovery-codes") is None
    assert [p.name for p in folder.iterdir()] == ["abc123.json"]


def test_forget_removes_the_sessions_secrets(places) -> None:
    vault = Vault("abc123", *places)
    vault.put("totp-seed", SEED)
    vault.forget()
    assert not vault.path.exists()
    assert vault.get("totp-seed") is None


@pytest.mark.parametrize("inside", ["report", "repository"])
def test_refuses_a_folder_inside_the_report_or_the_repository(places, inside) -> None:
    _, report, repository = places
    folder = {"report": report, "repository": repository}[inside] / "vault"
    with pytest.raises(VaultError, match=f"set {VAULT_FOLDER} to a folder outside it"):
        Vault("abc123", folder, report, repository)


def test_refuses_a_session_id_that_is_a_path(places) -> None:
    with pytest.raises(VaultError, match="not letters and digits"):
        Vault("../x", *places)


def test_a_mangled_vault_is_one_line_without_its_content(places) -> None:
    vault = Vault("abc123", *places)
    vault.folder.mkdir(parents=True)
    vault.path.write_text(f"{SEED} not json", encoding="utf-8")
    with pytest.raises(VaultError) as error:
        vault.get("totp-seed")
    assert "is not JSON" in str(error.value) and SEED not in str(error.value)


def test_default_folder(tmp_path: Path) -> None:
    assert default_folder({VAULT_FOLDER: str(tmp_path)}) == tmp_path
    assert default_folder({"XDG_STATE_HOME": "/state"}) == Path("/state/pypi-2fa-harness/guide")
    assert default_folder({}).parts[-4:] == (".local", "state", "pypi-2fa-harness", "guide")


def test_a_document_is_read_back_without_becoming_one_long_secret(places) -> None:
    vault = Vault("abc123", *places)
    document = [{"privateKey": "a" * 600, "signCount": 3}]
    vault.put("key-credentials", json.dumps(document))

    assert vault.get_document("key-credentials") == document
    assert vault.get_document("recovery-codes") is None
    # The whole text is no secret of its own: masking a text that long would not be safe.
    assert json.dumps(document) not in known_secrets()
