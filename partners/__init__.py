"""Partners: referring practices, lead partners and the EHR, through /api/v1/."""
