"""The clinic's DICOM node: studies that imaging centres send to Orthanc by
C-STORE, read from Orthanc's change feed, matched to open cases and attached
as ordinary MRI files (README, "DICOM node")."""
