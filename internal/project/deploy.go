package project

import (
	"encoding/json"

	"github.com/picloud/picloud/internal/api"
)

// Deploy is the body of the deploy that makes the server's app what p
// declares. Schedules and the outbound allow-list are sent only when the
// manifest declares them; otherwise the server's stay as they are.
func (p *Project) Deploy(message string, prune, dryRun bool) api.ProjectDeploy {
	d := api.ProjectDeploy{
		Message:         message,
		Scripts:         make([]api.ProjectScript, 0, len(p.Scripts)),
		RequiredSecrets: p.RequiredSecrets,
		Limits:          p.Limits,
		Prune:           prune,
		DryRun:          dryRun,
	}
	for _, s := range p.Scripts {
		d.Scripts = append(d.Scripts, api.ProjectScript{
			Name: s.Name, Source: s.Source, File: s.File, Visibility: s.Visibility, MaxAttempts: s.MaxAttempts,
		})
	}
	if p.Schedules != nil {
		d.Schedules = make([]api.NewSchedule, 0, len(p.Schedules))
		for _, s := range p.Schedules {
			enabled := s.Enabled
			d.Schedules = append(d.Schedules, api.NewSchedule{
				Script: s.Script, Cron: s.Cron, Timezone: s.Timezone, Payload: json.RawMessage(s.Payload), Enabled: &enabled,
			})
		}
	}
	if p.Outbound != nil {
		d.OutboundAllow = append([]string{}, p.Outbound.Allow...)
	}
	return d
}
