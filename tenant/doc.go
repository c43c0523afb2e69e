// Package tenant holds the records of a tenant's place in vigil: its
// workspace (and the tier that decides which detections run), the API keys
// that act in it, and the sources that feed it. The store keeps them;
// ingest, the API and the analysis stage read them, and none of those needs
// the store's package for it.
package tenant
