package postgres

import (
	"github.com/vigil-sec/vigil/analysis"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/store/storetest"
)

// What `vigil serve` asks of a store (cmd/vigil's backend) that this
// package provides; users, sessions and incidents come apart.
var (
	_ store.Assets                = (*DB)(nil)
	_ store.BulkAlerts            = (*DB)(nil)
	_ store.Decisions             = (*DB)(nil)
	_ store.Intel                 = (*DB)(nil)
	_ store.Noise                 = (*DB)(nil)
	_ store.Threats               = (*DB)(nil)
	_ analysis.CorrelationStates  = (*DB)(nil)
	_ analysis.SuppressionLookup  = (*DB)(nil)
	_ analysis.DisabledRuleLookup = (*DB)(nil)
	_ storetest.SourceControls    = (*DB)(nil)
	_ storetest.Baselines         = (*DB)(nil)
	_ storetest.RuleState         = (*DB)(nil)
	_ storetest.EventReader       = (*DB)(nil)
	_ storetest.DatabaseIndex     = (*DB)(nil)
)
