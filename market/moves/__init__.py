"""Strategic moves chosen by value (docs/design.md, "Strategic moves").

At review dates each lab forecasts, for every option of every move on its menu, the present value to its owners of
the cash they will get, and its rules (agents/moves.py) choose. The modules, in the order a forecast runs:

* ``sample``   — the customers a forecast works on (the demand oracle's sample) and offers' terms under an option;
* ``chain``    — customers' holdings as a Markov chain with switching costs and reconsideration (pure arrays);
* ``forecast`` — an option's schedule of terms run through the chain: revenue and profit paths;
* ``context``  — what a review knows (the lab's offers and costs, wrappers buying its tokens, rivals);
* ``conduct``, ``entry``, ``products`` — the options of each move as schedules;
* ``evaluate`` — rivals' exits and the lab's owners' value of each option (through ``value``);
* ``review``   — the schedule of reviews, decisions, their execution and records, forecast errors.
"""
