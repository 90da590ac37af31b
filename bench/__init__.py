"""Benchmarks of the flexbill server.

Customer reads are measured beside a baseline served by the same process (a static JSON body
of the same size, without auth or database), so the figures say what flexbill's own code
costs rather than how fast this particular machine is. Run with ``python -m bench.run``;
the results land in ``bench/README.md``.
"""
