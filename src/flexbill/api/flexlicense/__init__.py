"""The FlexLicense face (seed 002): GET endpoints answering {"msg": ...}, and PayPal IPN."""
