"""Online supervision and assessment (在线监督考核): indicators computed from the records behind
them (each figure opens to its list, and the two never disagree), by scope and period."""
