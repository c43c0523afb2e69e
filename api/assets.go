package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/vigil-sec/vigil/store"
)

// AssetBody is an asset as the API takes it.
type AssetBody struct {
	Type        string   `json:"type" enum:"host,network,account,database,cloud_resource"`
	Match       []string `json:"match,omitempty" required:"false" maxItems:"256" doc:"What else identifies the asset: a host's other names and its addresses, a network's CIDR ranges (needed when its name is not a range), an account's other names (DOMAIN\\\\user too), a database's other names, a cloud resource's account or resource ids."`
	Criticality string   `json:"criticality,omitempty" required:"false" enum:"low,medium,high,critical"`
	Owner       string   `json:"owner,omitempty" required:"false" maxLength:"256"`
	Environment string   `json:"environment,omitempty" required:"false" maxLength:"256"`
	Tags        []string `json:"tags,omitempty" required:"false" maxItems:"256"`
}

// NamedAssetBody is an asset with its name, in a list.
type NamedAssetBody struct {
	Name string `json:"name" minLength:"1" maxLength:"256" doc:"The asset's name: a host's name, a network's name or CIDR range, an account, database or cloud resource name. Unique in the workspace."`
	AssetBody
}

// AssetView is an asset as the API shows it.
type AssetView struct {
	Name        string    `json:"name"`
	Type        string    `json:"type"`
	Match       []string  `json:"match,omitempty"`
	Criticality string    `json:"criticality,omitempty"`
	Owner       string    `json:"owner,omitempty"`
	Environment string    `json:"environment,omitempty"`
	Tags        []string  `json:"tags,omitempty"`
	Updated     time.Time `json:"updated"`
}

func assetView(a store.Asset) AssetView {
	return AssetView{Name: a.Name, Type: a.Type, Match: a.Match, Criticality: a.Criticality, Owner: a.Owner,
		Environment: a.Environment, Tags: a.Tags, Updated: a.Updated}
}

func storeAsset(ws, name string, b AssetBody) store.Asset {
	return store.Asset{Workspace: ws, Name: name, Type: b.Type, Match: b.Match, Criticality: b.Criticality,
		Owner: b.Owner, Environment: b.Environment, Tags: b.Tags}
}

type assetsOutput struct {
	Body struct {
		Assets []AssetView `json:"assets"`
	}
}

type assetNameInput struct {
	Name string `path:"name" minLength:"1" maxLength:"256" doc:"The asset's name (a network named by its range: the slash escaped, %2F)."`
}

type assetOutput struct {
	Body AssetView
}

type createAssetInput struct {
	Body NamedAssetBody
}

type putAssetInput struct {
	Name string `path:"name" minLength:"1" maxLength:"256" doc:"The asset's name (a network named by its range: the slash escaped, %2F)."`
	Body AssetBody
}

type replaceAssetsInput struct {
	Body struct {
		Assets []NamedAssetBody `json:"assets" maxItems:"100000" doc:"The whole inventory; an empty list empties it."`
	}
}

func (a *API) registerAssets(h huma.API) {
	tags := []string{"assets"}
	errs := []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusUnprocessableEntity, http.StatusServiceUnavailable}
	huma.Register(h, huma.Operation{
		OperationID: "list-assets",
		Method:      http.MethodGet,
		Path:        "/api/v1/assets",
		Summary:     "List the workspace's asset inventory",
		Description: "Every asset kept through the API, by name (an inventory file given to the server is not listed).",
		Tags:        tags,
		Security:    bearer,
		Errors:      errs,
	}, a.listAssets)
	huma.Register(h, huma.Operation{
		OperationID:   "create-asset",
		Method:        http.MethodPost,
		Path:          "/api/v1/assets",
		DefaultStatus: http.StatusCreated,
		Summary:       "Add an asset",
		Description:   "Adds one asset; 409 when the workspace has one of its name. Events are enriched with it from then on. Audited as asset.create.",
		Tags:          tags,
		Security:      bearer,
		Errors:        append([]int{http.StatusConflict}, errs...),
	}, a.createAsset)
	huma.Register(h, huma.Operation{
		OperationID: "replace-assets",
		Method:      http.MethodPut,
		Path:        "/api/v1/assets",
		Summary:     "Replace the whole asset inventory",
		Description: "Makes the list the workspace's inventory, at once (a list with a problem changes nothing). Audited as asset.replace_all.",
		Tags:        tags,
		Security:    bearer,
		Errors:      errs,
	}, a.replaceAssets)
	huma.Register(h, huma.Operation{
		OperationID: "get-asset",
		Method:      http.MethodGet,
		Path:        "/api/v1/assets/{name}",
		Summary:     "Get an asset",
		Tags:        tags,
		Security:    bearer,
		Errors:      append([]int{http.StatusNotFound}, errs...),
	}, a.getAsset)
	huma.Register(h, huma.Operation{
		OperationID: "put-asset",
		Method:      http.MethodPut,
		Path:        "/api/v1/assets/{name}",
		Summary:     "Create or replace an asset",
		Description: "Sets every field of the asset of that name, creating it when there is none. Audited as asset.put.",
		Tags:        tags,
		Security:    bearer,
		Errors:      errs,
	}, a.putAsset)
	huma.Register(h, huma.Operation{
		OperationID:   "delete-asset",
		Method:        http.MethodDelete,
		Path:          "/api/v1/assets/{name}",
		DefaultStatus: http.StatusNoContent,
		Summary:       "Delete an asset",
		Description:   "Audited as asset.delete.",
		Tags:          tags,
		Security:      bearer,
		Errors:        append([]int{http.StatusNotFound}, errs...),
	}, a.deleteAsset)
}

func (a *API) assetsOrUnavailable() error {
	if a.assets == nil {
		return huma.Error503ServiceUnavailable("this server's store keeps no asset inventory")
	}
	return nil
}

// assetsChanged tells the server that a workspace's inventory changed, so
// that its events are enriched with the new one.
func (a *API) assetsChanged(ws string) {
	if a.onAssets != nil {
		a.onAssets(ws)
	}
}

func (a *API) listAssets(ctx context.Context, _ *struct{}) (*assetsOutput, error) {
	k, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := a.assetsOrUnavailable(); err != nil {
		return nil, err
	}
	list, err := a.assets.Assets(ctx, k.Workspace)
	if err != nil {
		return nil, a.storeError(ctx, "assets", err)
	}
	out := &assetsOutput{}
	out.Body.Assets = make([]AssetView, 0, len(list))
	for _, as := range list {
		out.Body.Assets = append(out.Body.Assets, assetView(as))
	}
	return out, nil
}

func (a *API) getAsset(ctx context.Context, in *assetNameInput) (*assetOutput, error) {
	k, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := a.assetsOrUnavailable(); err != nil {
		return nil, err
	}
	as, err := a.assets.Asset(ctx, k.Workspace, in.Name)
	if err != nil {
		return nil, a.storeError(ctx, "asset "+in.Name, err)
	}
	return &assetOutput{Body: assetView(as)}, nil
}

func (a *API) createAsset(ctx context.Context, in *createAssetInput) (*assetOutput, error) {
	k, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := a.assetsOrUnavailable(); err != nil {
		return nil, err
	}
	as := storeAsset(k.Workspace, in.Body.Name, in.Body.AssetBody)
	if err := a.assets.CreateAsset(ctx, as); err != nil {
		return nil, a.storeError(ctx, "asset "+as.Name, err)
	}
	a.audit(ctx, k, "asset.create", "asset:"+as.Name, as.Type+" "+as.Criticality)
	a.assetsChanged(k.Workspace)
	return a.storedAsset(ctx, as)
}

func (a *API) putAsset(ctx context.Context, in *putAssetInput) (*assetOutput, error) {
	k, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := a.assetsOrUnavailable(); err != nil {
		return nil, err
	}
	as := storeAsset(k.Workspace, in.Name, in.Body)
	created, err := a.assets.PutAsset(ctx, as)
	if err != nil {
		return nil, a.storeError(ctx, "asset "+as.Name, err)
	}
	detail := "replaced"
	if created {
		detail = "created"
	}
	a.audit(ctx, k, "asset.put", "asset:"+as.Name, detail+": "+as.Type+" "+as.Criticality)
	a.assetsChanged(k.Workspace)
	return a.storedAsset(ctx, as)
}

// storedAsset answers with the asset as the store kept it (normalized,
// with its update time).
func (a *API) storedAsset(ctx context.Context, as store.Asset) (*assetOutput, error) {
	if stored, err := a.assets.Asset(ctx, as.Workspace, as.Name); err == nil {
		as = stored
	}
	return &assetOutput{Body: assetView(as)}, nil
}

func (a *API) replaceAssets(ctx context.Context, in *replaceAssetsInput) (*assetsOutput, error) {
	k, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := a.assetsOrUnavailable(); err != nil {
		return nil, err
	}
	list := make([]store.Asset, len(in.Body.Assets))
	for i, b := range in.Body.Assets {
		list[i] = storeAsset(k.Workspace, b.Name, b.AssetBody)
	}
	if err := a.assets.ReplaceAssets(ctx, k.Workspace, list); err != nil {
		return nil, a.storeError(ctx, "assets", err)
	}
	a.audit(ctx, k, "asset.replace_all", "assets", strconv.Itoa(len(list))+" assets")
	a.assetsChanged(k.Workspace)
	return a.listAssets(ctx, nil)
}

func (a *API) deleteAsset(ctx context.Context, in *assetNameInput) (*struct{}, error) {
	k, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := a.assetsOrUnavailable(); err != nil {
		return nil, err
	}
	if err := a.assets.DeleteAsset(ctx, k.Workspace, in.Name); err != nil {
		return nil, a.storeError(ctx, "asset "+in.Name, err)
	}
	a.audit(ctx, k, "asset.delete", "asset:"+in.Name, "")
	a.assetsChanged(k.Workspace)
	return nil, nil
}
