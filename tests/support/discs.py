"""What real discs hold, for the upload check's tests and the viewer's: a CD
export ZIP (pydicom's own DICOMDIR test tree with a README, an AUTORUN.INF and
a viewer beside it) and DICOM files without their 128-byte preamble."""

import io
import os
import zipfile

from pydicom import Dataset
from pydicom.data import get_testdata_file
from pydicom.uid import generate_uid

from tests.intake import corpus

DICOMDIR_ROOT = os.path.dirname(get_testdata_file("DICOMDIR"))
# The tree the DICOMDIR describes (the folder also holds variants of the DICOMDIR for pydicom's tests).
DISC_FOLDERS = ("77654033", "98892001", "98892003")


def cd_export(folders=DISC_FOLDERS, *, extras=True) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(os.path.join(DICOMDIR_ROOT, "DICOMDIR"), "DICOMDIR")
        for folder in folders:
            for here, _dirs, files in os.walk(os.path.join(DICOMDIR_ROOT, folder)):
                for name in sorted(files):
                    path = os.path.join(here, name)
                    zf.write(path, os.path.relpath(path, DICOMDIR_ROOT))
        if extras:
            zf.writestr("README", b"Patient CD. Insert the disc and run the viewer.\r\n")
            zf.writestr("AUTORUN.INF", b"[autorun]\r\nopen=Viewer\\Viewer.exe\r\n")
            # Programs do not compress a hundredfold (the ZIP-bomb ratio still applies).
            zf.writestr("Viewer/Viewer.exe", b"MZ\x90\x00" + os.urandom(2000))
            zf.writestr("Viewer/dcmview.dll", b"MZ\x90\x00" + os.urandom(2000))
            zf.writestr("Viewer/index.html", b"<!doctype html><script src='viewer.js'></script>")
            zf.writestr("Viewer/viewer.js", b"document.write('viewer')")
            zf.writestr("OsiriX Lite.app/Contents/MacOS/OsiriX", b"\xcf\xfa\xed\xfe" + os.urandom(500))
    return buf.getvalue()


def preamble_less_meta() -> bytes:
    """A Part-10 file with its 128-byte preamble and "DICM" cut off: the file meta first."""
    return corpus.dicom()[132:]


def preamble_less_dataset_only() -> bytes:
    """What older discs write: the dataset alone, implicit VR, group 0008 first."""
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.4"
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "MR"
    ds.Rows = ds.Columns = 4
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
    ds.SamplesPerPixel, ds.PixelRepresentation = 1, 0
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.PixelData = b"\x00\x01" * 16
    buf = io.BytesIO()
    ds.save_as(buf, implicit_vr=True, little_endian=True)
    return buf.getvalue()
