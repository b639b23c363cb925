"""Tools for compliance officers: the policy signing keys, the signed bundle, and the impact report.

``python -m compliance keys|bundle|impact`` (``make policy-keys``, ``make policy-bundle``,
``make policy-impact``); docs/compliance.md walks through a change with them. Never deployed.
"""
