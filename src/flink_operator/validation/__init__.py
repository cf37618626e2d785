"""The default validator: one small named rule per upstream rule, every violation reported."""
