"""Reports rendered from metrics.json: tables, plots, Markdown, self-contained HTML, leaderboards."""
