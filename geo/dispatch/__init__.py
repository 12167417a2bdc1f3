"""Inspection tasks and lawful crews: tasks and their lifecycle, crews and candidates, arrivals,
batch plans, random plans (双随机) and on-site work."""
