package respond

import (
	"errors"
	"fmt"
)

// Config is the respond section of the config file: automation rules,
// playbooks and notification channels.
type Config struct {
	Automation    []Rule         `koanf:"automation" json:"automation"`
	Playbooks     []Playbook     `koanf:"playbooks" json:"playbooks"`
	Notifications []Notification `koanf:"notifications" json:"notifications"`
}

// Empty reports whether c configures nothing.
func (c *Config) Empty() bool {
	return len(c.Automation) == 0 && len(c.Playbooks) == 0 && len(c.Notifications) == 0
}

// Check validates c and prepares it for the engine: names unique,
// references resolved, defaults filled in. Each error names the rule,
// playbook or notification and its field; all are returned, joined.
func (c *Config) Check() error {
	var errs []error
	playbooks := map[string]*Playbook{}
	for i := range c.Playbooks {
		pb := &c.Playbooks[i]
		if err := pb.check(i); err != nil {
			errs = append(errs, err)
			continue
		}
		if playbooks[pb.Name] != nil {
			errs = append(errs, fmt.Errorf("playbook %q (respond.playbooks[%d]): name: another playbook has this name", pb.Name, i))
			continue
		}
		playbooks[pb.Name] = pb
	}
	rules := map[string]bool{}
	for i := range c.Automation {
		r := &c.Automation[i]
		if err := r.check(i, playbooks); err != nil {
			errs = append(errs, err)
			continue
		}
		if rules[r.Name] {
			errs = append(errs, fmt.Errorf("automation rule %q (respond.automation[%d]): name: another rule has this name", r.Name, i))
		}
		rules[r.Name] = true
	}
	notes := map[string]bool{}
	for i := range c.Notifications {
		n := &c.Notifications[i]
		if err := n.check(i, playbooks); err != nil {
			errs = append(errs, err)
			continue
		}
		if notes[n.Name] {
			errs = append(errs, fmt.Errorf("notification %q (respond.notifications[%d]): name: another notification has this name", n.Name, i))
		}
		notes[n.Name] = true
	}
	return errors.Join(errs...)
}
