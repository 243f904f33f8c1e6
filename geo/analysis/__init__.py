"""Analysis: which communities are served (coverage), which can host a set (eligibility), and in
what order they should get one (priority)."""
