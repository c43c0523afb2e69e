package rule

import yaml "go.yaml.in/yaml/v4"

// Meta is the metadata of a rule or a correlation rule: what it is, who
// wrote it, how severe its alerts are and what ATT&CK tags it has. Rule
// and Correlation embed it.
type Meta struct {
	ID string
	// Name is the optional unique name (Sigma 2) by which filters and
	// correlations may refer to the rule besides its id.
	Name           string
	Title          string
	Description    string
	Status         string
	Author         string
	Date           string
	Modified       string
	Level          string
	Tags           []string
	References     []string
	FalsePositives []string
	// Remediation (vigil extension) says what to do about an alert of
	// the rule; it travels on the alert.
	Remediation string
	// Confidence (vigil extension: low, medium or high) is how sure the
	// rule's author is that a match is the attack it names, not benign
	// activity that looks like it; empty when not stated. It weighs in
	// the alert's priority.
	Confidence string
	// Outcome (vigil extension: attempt or success) says whether a match
	// means the attack was only tried or succeeded (a login after brute
	// force, a command run through SQL); empty when not stated. A success
	// raises the alert's priority.
	Outcome string
}

// Confidence and outcome values (rule keys confidence and outcome).
const (
	ConfidenceLow    = "low"
	ConfidenceMedium = "medium"
	ConfidenceHigh   = "high"
	OutcomeAttempt   = "attempt"
	OutcomeSuccess   = "success"
)

var (
	confidences = map[string]bool{ConfidenceLow: true, ConfidenceMedium: true, ConfidenceHigh: true}
	outcomes    = map[string]bool{OutcomeAttempt: true, OutcomeSuccess: true}
)

// keys points the parser at every field of m.
func (m *Meta) keys() metaKeys {
	return metaKeys{title: &m.Title, id: &m.ID, name: &m.Name, description: &m.Description, status: &m.Status,
		author: &m.Author, date: &m.Date, modified: &m.Modified, level: &m.Level,
		tags: &m.Tags, references: &m.References, falsePositives: &m.FalsePositives, remediation: &m.Remediation,
		confidence: &m.Confidence, outcome: &m.Outcome}
}

// metaKeys points at the metadata fields of a document being parsed: the
// keys rules, correlation rules and filters share. A nil pointer is a key
// the document type does not have (it is ignored, as other unknown keys
// are).
type metaKeys struct {
	title, id, name, description, status, author, date, modified, level, remediation, confidence, outcome *string
	tags, references, falsePositives                                                                      *[]string
}

// parse reads the document's pairs kvs: the metadata keys into their
// fields, every other pair through other. It stops at the first error.
func (m *metaKeys) parse(kvs [][2]*yaml.Node, other func(k, v *yaml.Node) *posError) *posError {
	for _, kv := range kvs {
		known, err := m.read(kv[0], kv[1])
		if !known {
			err = other(kv[0], kv[1])
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// read reads the value v of key k into its field, if k is a metadata key
// of the document; known reports whether it was.
func (m *metaKeys) read(k, v *yaml.Node) (known bool, err *posError) {
	var s *string
	var list *[]string
	switch k.Value {
	case "title":
		s = m.title
	case "id":
		s = m.id
	case "name":
		s = m.name
	case "description":
		s = m.description
	case "status":
		s = m.status
	case "author":
		s = m.author
	case "date":
		s = m.date
	case "modified":
		s = m.modified
	case "level":
		s = m.level
	case "remediation":
		s = m.remediation
	case "confidence":
		s = m.confidence
	case "outcome":
		s = m.outcome
	case "tags":
		list = m.tags
	case "references":
		list = m.references
	case "falsepositives":
		list = m.falsePositives
	}
	switch {
	case s != nil:
		if *s, err = text(k, v); err == nil && *s != "" {
			switch {
			case s == m.level && !levels[*s]:
				err = errAt(pos(v), "level %q is not one of informational, low, medium, high, critical", *s)
			case s == m.confidence && !confidences[*s]:
				err = errAt(pos(v), "confidence %q is not one of low, medium, high", *s)
			case s == m.outcome && !outcomes[*s]:
				err = errAt(pos(v), "outcome %q is not one of attempt, success", *s)
			}
		}
		return true, err
	case list != nil:
		*list, err = textList(k, v)
		return true, err
	}
	return false, nil
}
