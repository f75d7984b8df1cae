"""Scenario pairs and outcome frequencies over replicate seeds (DESIGN.md §8 "Comparison").

``study`` runs a set of scenarios over common random numbers on the sweep executors into one resumable folder;
``stats`` holds the interval estimates (Wilson, Newcombe, Student t) and bands; ``summaries`` turns a finished
folder into series, differences and frequency tables; ``report`` draws them; ``pairs`` lists the shipped pairs.
"""
