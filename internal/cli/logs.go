package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/picloud/picloud/internal/client"
)

func logsCmd() *command {
	return &command{
		name:  "logs",
		args:  "APP [--script NAME] [--status STATUS] [--http-status CODE] [--limit N | --follow [--after ID]] | show ID | replay ID [--version N] [--force] | repro ID [--file F]",
		short: "list an app's invocation logs or jobs, newest first, follow them live, show, replay or reproduce one",
		long: `'pic logs APP' lists the app's invocation records, newest first (the
server returns 100 unless --limit says otherwise, at most 1000). The table
truncates summaries to 60 characters with an ellipsis; --output json has
them in full. --status ok, error, timeout or limit lists the records with
that status; --status queued, running or dead lists the async jobs and
schedule firings in that state instead, with their attempts. The status
says how the run went: a script that answers 422 itself ran fine (ok).
--http-status 404 or --http-status 4xx lists the records by the HTTP
status their caller got, so --http-status 4xx finds a script's client
errors.

'pic logs show ID' shows one record with its captured print/debug output:
the table's row (with the whole summary), then, when there is output, an
empty line and the output. For the id of a job (what 'pic invoke --async'
prints), it shows the job's row, an empty line, and the records of its
attempts, newest first. A record of an HTTP request also shows the
request and the response that were recorded (see docs/api.md for what is
left out).

'pic logs APP --follow' (-f) prints the app's new records as they are
written, one row each (one JSON object per line with --output json),
until interrupted with Ctrl-C (exit 0); --script, --status (ok,
error, timeout, limit) and --http-status filter them, and --after ID first prints the
records after that one. A record shows about one log flush interval
(500ms by default) after its run. A dropped connection is resumed where it
stopped.

'pic logs replay ID' runs the request recorded with an invocation again,
against the live version of its script or --version N, and shows the
recorded response and the replay's side by side. The replay really runs
the script: its writes and outbound requests happen again. --force
replays a request whose body was cut when it was recorded. It exits 0
when the replay ran, whether or not the responses differ.

'pic logs repro ID' runs a recorded invocation again on this machine,
with the runtime of 'pic dev', against the source of the version it ran
or a local script (--file F, whose folder's scripts resolve its
imports), deterministically: its kv reads, outbound responses, clock and
random values are answered from the effect journal recorded with it, its
writes are captured and not applied, and what the journal has no answer
for is not performed but reported as a new effect. The app's secrets
stay on the server: secret(NAME) reads "[secret NAME]", as the journal
holds them. It shows both responses side by side and the first point
where they differ, and exits 0 when they are the same, 1 when they
differ.`,
		run: leaf(parseLogs, runLogs),
	}
}

// logsAPI is what 'pic logs' needs of the client.
type logsAPI interface {
	ListLogs(ctx context.Context, slug string, f client.LogFilter) ([]client.Invocation, error)
	ListJobs(ctx context.Context, slug string, f client.LogFilter) ([]client.Job, error)
	GetLog(ctx context.Context, id string) (*client.LogEntry, error)
	GetVersion(ctx context.Context, slug, name string, version int) (*client.Version, error)
	Replay(ctx context.Context, id string, opts client.ReplayOptions) (*client.Replay, error)
	StreamLogs(ctx context.Context, slug string, f client.LogFilter, lastEventID string, fn func(client.LogEvent) error) error
}

var _ logsAPI = (*client.Client)(nil)

// What 'pic logs' does: list an app's records or jobs, follow its
// records, show or replay one.
const (
	logsList   = "list"
	logsFollow = "follow"
	logsShow   = "show"
	logsReplay = "replay"
	logsRepro  = "repro"
)

type logsOptions struct {
	Mode   string // logsList, logsFollow, logsShow or logsReplay
	App    string // list and follow
	ID     string // show, replay and repro
	File   string // repro: the local script to run
	Filter client.LogFilter
	Jobs   bool // list: --status names a job state, so jobs are listed
	Live   liveOptions
}

var (
	logStatuses = []string{"ok", "error", "timeout", "limit"}
	jobStatuses = []string{"queued", "running", "dead"}
)

func parseLogs(p *pic, c *command, args []string) (logsOptions, error) {
	var opts logsOptions
	f := newFlags(c)
	f.stringVar(&opts.Filter.Script, "script", "NAME", "only this script's records")
	f.stringVar(&opts.Filter.Status, "status", "STATUS", "only records with this status ("+strings.Join(logStatuses, ", ")+"), or jobs in this state ("+strings.Join(jobStatuses, ", ")+")")
	f.stringVar(&opts.Filter.HTTPStatus, "http-status", "CODE", "only records whose caller got this HTTP status (404) or class (4xx)")
	f.intVar(&opts.Filter.Limit, "limit", "N", "at most N records (1 to 1000; default 100)")
	opts.Live.flags(f)
	f.stringVar(&opts.File, "file", "F", "repro: run this local script instead of the recorded version")
	pos, err := p.parse(c, f, args, 1, 2)
	if err != nil {
		return opts, err
	}
	// "logs show ID" shows a record, "logs replay ID" replays one; "logs
	// show" lists the logs of an app named "show".
	if len(pos) == 2 {
		switch pos[0] {
		case "show", "replay", "repro":
		default:
			return opts, usagef(c, "too many arguments (%s); expected APP, show ID, replay ID or repro ID", pos[1])
		}
		if f.isSet("script", "status", "http-status", "limit") {
			return opts, usagef(c, "--script, --status, --http-status and --limit filter a list, not 'logs %s'", pos[0])
		}
		if f.isSet("f", "follow", "after") {
			return opts, usagef(c, "--follow and --after follow an app's logs, not 'logs %s'", pos[0])
		}
		opts.ID = pos[1]
		if pos[0] != "repro" && f.isSet("file") {
			return opts, usagef(c, "--file is for 'logs repro'")
		}
		if pos[0] == "repro" {
			if f.isSet("version", "force") {
				return opts, usagef(c, "--version and --force are for 'logs replay'; 'logs repro' runs the recorded version or --file")
			}
			opts.Mode = logsRepro
			return opts, nil
		}
		if pos[0] == "replay" {
			if opts.Live.Version < 0 {
				return opts, usagef(c, "--version must be a version number (0 or absent: the live version)")
			}
			opts.Mode = logsReplay
			return opts, nil
		}
		if f.isSet("version", "force") {
			return opts, usagef(c, "--version and --force are for 'logs replay'")
		}
		opts.Mode = logsShow
		return opts, nil
	}
	if f.isSet("version", "force") {
		return opts, usagef(c, "--version and --force are for 'logs replay ID'")
	}
	if f.isSet("file") {
		return opts, usagef(c, "--file is for 'logs repro ID'")
	}
	opts.App = pos[0]
	opts.Jobs = slices.Contains(jobStatuses, opts.Filter.Status)
	if opts.Filter.Status != "" && !opts.Jobs && !slices.Contains(logStatuses, opts.Filter.Status) {
		return opts, usagef(c, "invalid --status %q: use %s", opts.Filter.Status, strings.Join(append(slices.Clone(logStatuses), jobStatuses...), ", "))
	}
	if opts.Jobs && opts.Filter.HTTPStatus != "" {
		return opts, usagef(c, "--http-status filters invocation records, not jobs (--status %s)", opts.Filter.Status)
	}
	if f.isSet("limit") && opts.Filter.Limit < 1 {
		return opts, usagef(c, "--limit must be 1 or more")
	}
	if opts.Live.Follow || f.isSet("after") {
		switch {
		case !opts.Live.Follow:
			return opts, usagef(c, "--after needs --follow")
		case opts.Jobs:
			return opts, usagef(c, "--follow streams invocation records: use --status %s", strings.Join(logStatuses, ", "))
		case f.isSet("limit"):
			return opts, usagef(c, "--limit bounds a list; --follow prints every new record")
		}
		opts.Mode = logsFollow
		return opts, nil
	}
	opts.Mode = logsList
	return opts, nil
}

func runLogs(p *pic, api logsAPI, opts logsOptions) error {
	switch opts.Mode {
	case logsShow:
		return showLog(p, api, opts.ID)
	case logsReplay:
		return replayLog(p, api, opts.ID, opts.Live)
	case logsRepro:
		return reproLog(p, api, opts.ID, opts.File)
	case logsFollow:
		return followLogs(p, api, opts)
	}
	if opts.Jobs {
		list, err := api.ListJobs(p.ctx, opts.App, opts.Filter)
		if err != nil {
			return err
		}
		return p.print(list, jobsListTable(list...))
	}
	logs, err := api.ListLogs(p.ctx, opts.App, opts.Filter)
	if err != nil {
		return err
	}
	return p.print(logs, logsListTable(logs...))
}

// logsListTable is the table of a list of records, their summaries
// truncated.
func logsListTable(logs ...client.Invocation) *table {
	t := logsTable()
	for _, inv := range logs {
		addLogRow(t, inv, truncate(inv.Summary, summaryWidth))
	}
	return t
}

// jobsListTable is the table of a list of jobs, their summaries
// truncated.
func jobsListTable(jobs ...client.Job) *table {
	t := jobsTable()
	for _, j := range jobs {
		addJobRow(t, j, truncate(j.Summary, summaryWidth))
	}
	return t
}

// logsTable is the table of invocation records.
func logsTable() *table {
	return newTable("ID", "SCRIPT", "VERSION", "TRIGGER", "STATUS", "HTTP", "DURATION", "STARTED", "SUMMARY")
}

func addLogRow(t *table, inv client.Invocation, summary string) {
	t.add(inv.ID, inv.Script, intCell(inv.Version), inv.Trigger, inv.Status, intCell(inv.HTTPStatus),
		durationCell(inv.DurationMS), timeCell(inv.StartedAt), summary)
}

// jobsTable is the table of jobs: STATUS is the job's state, ATTEMPTS
// the attempts made out of the most it gets ("1/3"), QUEUED when it was
// queued, and SUMMARY that of its latest attempt.
func jobsTable() *table {
	return newTable("ID", "SCRIPT", "TRIGGER", "STATUS", "ATTEMPTS", "NEXT_ATTEMPT", "QUEUED", "SUMMARY")
}

func addJobRow(t *table, j client.Job, summary string) {
	t.add(j.ID, j.Script, j.Trigger, j.Status, intCell(j.Attempts)+"/"+intCell(j.MaxAttempts),
		optionalTimeCell(j.NextAttemptAt), timeCell(j.StartedAt), summary)
}

// attemptsTable is the table of a job's attempts.
func attemptsTable() *table {
	return newTable("ATTEMPT", "ID", "VERSION", "STATUS", "HTTP", "DURATION", "STARTED", "SUMMARY")
}

// showLog shows one record or job: as JSON with --output json.
func showLog(p *pic, api logsAPI, id string) error {
	e, err := api.GetLog(p.ctx, id)
	if err != nil {
		return err
	}
	if p.isJSON() {
		return writeJSON(p.io.Out, e)
	}
	return writeLogEntry(p.io.Out, e)
}

// writeLogEntry writes one record as a table of one row with its whole
// summary, then its captured output after an empty line; or a job with
// its attempts.
func writeLogEntry(w io.Writer, e *client.LogEntry) error {
	if e.Job != nil {
		return writeJob(w, e.Job)
	}
	inv := e.Record
	t := logsTable()
	addLogRow(t, *inv, inv.Summary)
	if err := writeTable(w, t); err != nil {
		return err
	}
	if inv.Output != nil && *inv.Output != "" {
		out := *inv.Output
		if !strings.HasSuffix(out, "\n") {
			out += "\n"
		}
		if _, err := io.WriteString(w, "\n"+out); err != nil {
			return fmt.Errorf("writing the output: %w", err)
		}
	}
	return writeJournal(w, inv.Journal)
}

// writeJob writes a job's row, an empty line and the table of its
// attempts (the header alone before the first).
func writeJob(w io.Writer, j *client.Job) error {
	t := jobsTable()
	addJobRow(t, *j, j.Summary)
	if err := writeTable(w, t); err != nil {
		return err
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("writing the job: %w", err)
	}
	at := attemptsTable()
	if j.Invocations != nil {
		for _, inv := range *j.Invocations {
			at.add(intCell(inv.Attempt), inv.ID, intCell(inv.Version), inv.Status, intCell(inv.HTTPStatus),
				durationCell(inv.DurationMS), timeCell(inv.StartedAt), inv.Summary)
		}
	}
	return writeTable(w, at)
}
