"""PDF storage: atomic writes, reads back, and no path leaves the storage folder."""

import os

import pytest

from services.certificates import storage


def test_written_file_reads_back_and_replaces_the_old_one(tmp_path):
    path = storage.certificate_path(3, 41)
    assert path == "certificates/3/41.pdf"
    assert not storage.exists(tmp_path, path)
    storage.write(tmp_path, path, b"%PDF-1 old")
    storage.write(tmp_path, path, b"%PDF-1 new")
    assert storage.exists(tmp_path, path)
    with storage.open(tmp_path, path) as file:
        assert file.read() == b"%PDF-1 new"
    # Nothing but the PDF is left behind: temporary files were renamed, not copied.
    assert os.listdir(tmp_path / "certificates" / "3") == ["41.pdf"]


def test_a_failed_write_leaves_neither_file_nor_temporary(tmp_path):
    path = storage.certificate_path(1, 2)
    with pytest.raises(TypeError):
        storage.write(tmp_path, path, object())  # type: ignore[arg-type]
    assert not storage.exists(tmp_path, path)
    assert os.listdir(tmp_path / "certificates" / "1") == []


@pytest.mark.parametrize("bad", ["../secret.pdf", "/etc/passwd", "certificates/../../x.pdf", ""])
def test_paths_cannot_leave_the_storage_folder(tmp_path, bad):
    with pytest.raises(ValueError):
        storage.write(tmp_path, bad, b"x")
    with pytest.raises(ValueError):
        storage.open(tmp_path, bad)
    with pytest.raises(ValueError):
        storage.exists(tmp_path, bad)


def test_opening_a_missing_file_says_so(tmp_path):
    with pytest.raises(FileNotFoundError):
        storage.open(tmp_path, "certificates/1/1.pdf")
