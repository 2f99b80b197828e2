"""Registration of the GOSS datasets in Detectron2's catalogues (happens on import)."""
