package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/client"
)

func statsCmd() *command {
	return &command{
		name:  "stats",
		args:  "APP [--script NAME] [--since DURATION] [--step minute|hour]",
		short: "show an app's requests, errors and latency per minute or hour",
		long: `'pic stats APP' shows the app's invocations rolled up per step, oldest
first, one row per step that had any: requests, then how many went ok,
ended in a client error (the script's 4xx), a server error (its 5xx or a
failure), a timeout or a limit, then the 50th, 95th and 99th percentiles
of their durations in milliseconds (estimated from histograms, so
approximate). --script shows one script's, else every script's summed.
--since (default 24h) is how far back to look; --step is minute (kept 48
hours) or hour (kept 90 days), by default minute for --since up to 2h and
hour beyond. On a terminal a sparkline of the requests comes first.`,
		run: leaf(parseStats, runStats),
	}
}

// statsAPI is what 'pic stats' needs of the client.
type statsAPI interface {
	Stats(ctx context.Context, slug string, f client.StatsFilter) (*api.Stats, error)
}

var _ statsAPI = (*client.Client)(nil)

type statsOptions struct {
	App    string
	Script string
	Since  time.Duration
	Step   string
}

func parseStats(p *pic, c *command, args []string) (statsOptions, error) {
	var opts statsOptions
	since := "24h"
	f := newFlags(c)
	f.stringVar(&opts.Script, "script", "NAME", "one script's stats")
	f.stringVar(&since, "since", "DURATION", "how far back, such as 90m or 7d (default 24h)")
	f.stringVar(&opts.Step, "step", "STEP", "minute or hour (default: minute up to 2h, else hour)")
	pos, err := p.parse(c, f, args, 1, 1)
	if err != nil {
		return opts, err
	}
	opts.App = pos[0]
	if opts.Since, err = parseSince(since); err != nil {
		return opts, usagef(c, "invalid --since %q: use a duration such as 90m, 24h or 7d", since)
	}
	switch opts.Step {
	case "":
		opts.Step = "hour"
		if opts.Since <= 2*time.Hour {
			opts.Step = "minute"
		}
	case "minute", "hour":
	default:
		return opts, usagef(c, "invalid --step %q: use minute or hour", opts.Step)
	}
	return opts, nil
}

// parseSince reads a positive duration, in Go's syntax or as a number of
// days ("7d").
func parseSince(s string) (time.Duration, error) {
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return 0, err
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, err
		}
	}
	if d <= 0 {
		return 0, fmt.Errorf("not positive: %s", s)
	}
	return d, nil
}

func runStats(p *pic, sa statsAPI, opts statsOptions) error {
	st, err := sa.Stats(p.ctx, opts.App, client.StatsFilter{Script: opts.Script, Step: opts.Step, From: time.Now().Add(-opts.Since)})
	if err != nil {
		return err
	}
	if p.isJSON() {
		return writeJSON(p.io.Out, st)
	}
	if p.io.OutTTY && len(st.Points) > 0 {
		if _, err := fmt.Fprintln(p.io.Out, "requests "+sparkline(st.Points)); err != nil {
			return err
		}
	}
	return writeTable(p.io.Out, statsTable(st.Points))
}

// statsTable is the table of the points of a Stats.
func statsTable(points []api.StatsPoint) *table {
	t := newTable("TIME", "REQUESTS", "OK", "4XX", "5XX", "TIMEOUTS", "LIMITS", "P50_MS", "P95_MS", "P99_MS")
	for _, pt := range points {
		t.add(timeCell(pt.Time), intCell(pt.Requests), intCell(pt.OK), intCell(pt.ClientErrors), intCell(pt.ServerErrors),
			intCell(pt.Timeouts), intCell(pt.Limits), msCell(pt.DurationP50MS), msCell(pt.DurationP95MS), msCell(pt.DurationP99MS))
	}
	return t
}

// msCell is a percentile in milliseconds, to a tenth.
func msCell(ms float64) string { return strconv.FormatFloat(ms, 'f', 1, 64) }

// sparkBars are the bars of a sparkline, lowest first.
var sparkBars = []rune("▁▂▃▄▅▆▇█")

// sparkline draws the requests of points, one bar each, scaled to the
// highest.
func sparkline(points []api.StatsPoint) string {
	var top int64
	for _, pt := range points {
		top = max(top, pt.Requests)
	}
	var b strings.Builder
	for _, pt := range points {
		i := 0
		if top > 0 {
			i = int(pt.Requests * int64(len(sparkBars)-1) / top)
		}
		b.WriteRune(sparkBars[i])
	}
	return b.String()
}
