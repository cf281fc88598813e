"""The mlstack policy pack: rules (``rules``), offline evaluation (``evaluate``) and the
CrossGuard pack entry point (``__main__``)."""
