"""Synthetic MR series made with pydicom and numpy: invented patients, noise for pixels."""

from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid


def write_mr_series(
    folder: Path,
    *,
    patient_name: str,
    patient_id: str = "",
    birth_date: str = "",
    accession: str = "",
    study_description: str = "MR LUMBAR SPINE",
    study_date: str = "20261101",
    slices: int = 4,
    size: int = 64,
    seed: int = 0,
    study_uid: str | None = None,
    series_number: int = 1,
) -> tuple[list[Path], str]:
    """Write one sagittal T2 series (of a new study, or of ``study_uid``); returns the files and the StudyInstanceUID."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    study_uid, series_uid = study_uid or generate_uid(), generate_uid()
    files = []
    for i in range(slices):
        sop_uid = generate_uid()
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = MRImageStorage
        meta.MediaStorageSOPInstanceUID = sop_uid
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID = MRImageStorage
        ds.SOPInstanceUID = sop_uid
        ds.StudyInstanceUID = study_uid
        ds.SeriesInstanceUID = series_uid
        ds.PatientName = patient_name
        ds.PatientID = patient_id
        ds.PatientBirthDate = birth_date
        ds.AccessionNumber = accession
        ds.StudyDate = study_date
        ds.StudyDescription = study_description
        ds.SeriesDescription = "SAG T2"
        ds.Modality = "MR"
        ds.BodyPartExamined = "LSPINE"
        ds.SeriesNumber = series_number
        ds.InstanceNumber = i + 1
        ds.ImagePositionPatient = [0.0, 0.0, float(i * 4)]
        ds.ImageOrientationPatient = [0.0, 1.0, 0.0, 0.0, 0.0, -1.0]
        ds.PixelSpacing = [0.5, 0.5]
        ds.SliceThickness = 4.0
        ds.Rows = ds.Columns = size
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated = 16
        ds.BitsStored = 12
        ds.HighBit = 11
        ds.PixelRepresentation = 0
        ds.PixelData = rng.integers(0, 4096, (size, size), dtype=np.uint16).tobytes()
        path = folder / f"S{series_number}IM{i:04d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        files.append(path)
    return files, study_uid
