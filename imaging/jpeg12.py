"""A pydicom decoder plugin: 12-bit JPEG Extended (1.2.840.10008.1.2.4.51) through GDCM.

Why this exists: older archives send lossy 12-bit JPEG (process 4), and no
decoder pydicom ships a plugin for takes it here. Pillow's libjpeg is 8-bit
only; pydicom's GDCM plugin refuses 12-bit samples outright ("GDCM does not
support 'JPEG Extended' for samples with 12-bit precision", a guard written
for older GDCM); pylibjpeg-libjpeg would, but it is GPL. GDCM itself (python-
gdcm 3.2.6, already a dependency) carries IJG libjpeg built for 8, 12 and 16
bits and decodes these frames: it first tries the 8-bit build (which writes
"Unsupported JPEG data precision 12" to stderr), then the 12-bit one. Checked
against dcmtk's dcmdjpeg: the same values, pixel for pixel, on a file
``dcmcjpeg +ee`` made and on pydicom's JPEG-lossy.dcm
(tests/imaging/test_syntaxes.py).

imaging.dicom registers it (``Decoder.add_plugin`` needs a module with
``is_available`` and ``DECODER_DEPENDENCIES``, hence a module of its own).
"""

from pydicom import uid

try:
    import gdcm

    HAVE_GDCM = True
except ImportError:  # pragma: no cover - python-gdcm is in requirements.txt
    HAVE_GDCM = False

DECODER_DEPENDENCIES = {uid.JPEGExtended12Bit: ("python-gdcm>=3.0.10",)}


def is_available(syntax: str) -> bool:
    return HAVE_GDCM and syntax == uid.JPEGExtended12Bit


def decode_frame(src: bytes, runner) -> bytes:
    """One encoded frame to its native little-endian samples (pydicom's plugin contract)."""
    fragment = gdcm.Fragment()
    fragment.SetByteStringValue(src)
    fragments = gdcm.SequenceOfFragments.New()
    fragments.AddFragment(fragment)
    element = gdcm.DataElement(gdcm.Tag(0x7FE0, 0x0010))
    element.SetValue(fragments.__ref__())

    image = gdcm.Image()
    image.SetNumberOfDimensions(2)
    image.SetDimensions((runner.columns, runner.rows, 1))
    image.SetDataElement(element)
    pi_type = gdcm.PhotometricInterpretation.GetPIType(str(runner.photometric_interpretation))
    image.SetPhotometricInterpretation(gdcm.PhotometricInterpretation(pi_type))
    if runner.samples_per_pixel > 1:
        image.SetPlanarConfiguration(runner.planar_configuration)
    image.SetTransferSyntax(gdcm.TransferSyntax(gdcm.TransferSyntax.GetTSType(str.__str__(runner.transfer_syntax))))
    bits = runner.bits_stored
    image.SetPixelFormat(
        gdcm.PixelFormat(runner.samples_per_pixel, runner.bits_allocated, bits, bits - 1, runner.pixel_representation)
    )
    # GDCM hands back char* as str: re-encode it to the bytes it holds.
    return image.GetBuffer().encode("utf-8", "surrogateescape")
