"""Keys the embedded default makes for itself: made once, private to their owner, the same for every process."""

import stat
from concurrent.futures import ProcessPoolExecutor

import pytest

from catalog.core.keys import KeyFileError, kept_key, new_secret_key


def test_a_key_is_made_once_readable_by_its_owner_only_and_read_back(tmp_path):
    path = tmp_path / "secret.key"
    key = kept_key(path)
    assert len(key) >= 50 and len(set(key)) >= 5  # what Django's check --deploy asks of a SECRET_KEY
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert kept_key(path) == key == path.read_text().strip()
    assert kept_key(tmp_path / "other.key") != key
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.key", "secret.key"]


def test_processes_starting_together_share_one_key(tmp_path):
    path = tmp_path / "secret.key"
    with ProcessPoolExecutor(4) as pool:
        keys = set(pool.map(kept_key, [path] * 8))
    assert keys == {path.read_text().strip()}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret.key"], "no temporary file is left behind"


def test_a_key_maker_may_give_bytes(tmp_path):
    assert kept_key(tmp_path / "encryption.key", lambda: b"c2VjcmV0") == "c2VjcmV0"


def test_an_empty_key_file_is_refused_without_inventing_a_key(tmp_path):
    path = tmp_path / "secret.key"
    path.write_text("\n")
    with pytest.raises(KeyFileError, match="secret.key is empty"):
        kept_key(path)


def test_new_secret_keys_differ():
    assert new_secret_key() != new_secret_key()
