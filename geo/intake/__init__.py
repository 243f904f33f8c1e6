"""Intake: a user's files into the city: lenient reading, row validation, the survey template,
merging district returns, assembling the city the app analyses, and the bounded child process
and upload folders the app imports in."""
