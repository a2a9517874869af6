// The benchmark's transform (bench/run, BENCH_MODE=routes, and `hookgate-bench transform-cost`):
// a GitHub push reshaped into what a deploy service might want, reading the body, a header and
// the event's metadata. The x-bench-transform header lets the sink count what it reshaped.
function handler(event) {
  const push = event.body;
  if (push === null || push.repository === undefined) {
    return null;
  }
  const commits = (push.commits || []).map((commit) => ({
    id: commit.id.slice(0, 7),
    title: commit.message.split("\n")[0],
    author: commit.author.username || commit.author.name,
    files: commit.added.length + commit.removed.length + commit.modified.length,
  }));
  return {
    body: {
      repository: push.repository.full_name,
      branch: push.ref.replace(/^refs\/heads\//, ""),
      pushed_by: push.pusher.name,
      commits: commits,
      event: event.headers["x-github-event"],
      delivery: event.provider_event_id,
      received_at: event.received_at,
    },
    headers: { "x-bench-transform": "reshape", "x-repository": push.repository.full_name },
    path: "/" + push.repository.name,
  };
}
