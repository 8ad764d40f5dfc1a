"""`python -m truepose_core.bench`: what TruePose costs per sampling step, against a plain step
and against naive ReferenceNet-style attention, on a full SD1.5-architecture UNet (random weights).
"""
