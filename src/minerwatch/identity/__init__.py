"""Who is mining for whom: wallets, logins, miner agents, algorithms and coins, as pure functions."""
