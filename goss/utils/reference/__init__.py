"""
Slow, independent implementations written for clarity, and seeded synthetic data: what the tests
and the benchmarks in ``tools/`` compare the library against. The library itself never uses them.

* :mod:`~goss.utils.reference.gq_stats`: the GQ matching rules per segment, and a
  panopticapi-style implementation;
* :mod:`~goss.utils.reference.super_bpd`: Super-BPD per pixel in pure Python;
* :mod:`~goss.utils.reference.synthetic`: seeded GT / prediction pairs in GOSS form.
"""
