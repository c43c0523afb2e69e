package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

// Users of a workspace: its admins manage who may sign in to it and with
// which role. A user is global (one name, one password) and holds a role
// in each workspace it may enter, so an admin of one workspace manages
// only the roles here: it sets a password only when it creates the user,
// never for a user that exists (who may belong to other workspaces too),
// and removing takes the role here away rather than deleting the user.

// WorkspaceUser is a user as the admins of one workspace see it: the role
// here, never the other workspaces it belongs to.
type WorkspaceUser struct {
	Name      string     `json:"name"`
	Role      string     `json:"role" enum:"reader,responder,admin"`
	Disabled  bool       `json:"disabled" doc:"Disabled users cannot sign in anywhere (vigil users disable)."`
	LastLogin *time.Time `json:"last_login,omitempty" doc:"The last sign-in, in any workspace."`
	Created   time.Time  `json:"created"`
}

type usersOutput struct {
	Body struct {
		Users []WorkspaceUser `json:"users"`
	}
}

type userOutput struct {
	Body WorkspaceUser
}

type createUserInput struct {
	Body struct {
		Name     string `json:"name" minLength:"1" maxLength:"64" doc:"1 to 64 letters, digits and . _ @ -."`
		Password string `json:"password,omitempty" maxLength:"1024" doc:"At least 12 characters. Required for a new user; refused for one that exists (it keeps its own password)."`
		Role     string `json:"role" enum:"reader,responder,admin"`
	}
}

type userNameInput struct {
	Name string `path:"name" doc:"The user's name."`
}

type setUserRoleInput struct {
	Name string `path:"name" doc:"The user's name."`
	Body struct {
		Role string `json:"role" enum:"reader,responder,admin"`
	}
}

func (a *API) registerUsers(h huma.API) {
	errs := []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusServiceUnavailable}
	huma.Register(h, huma.Operation{
		OperationID: "list-users", Method: http.MethodGet, Path: "/api/v1/users",
		Summary:     "List the users with a role in the workspace",
		Description: "Each with its role here, whether it is disabled, its last sign-in and when it was created; by name.",
		Tags:        []string{"users"}, Security: bearer, Errors: errs,
	}, a.listUsers)
	huma.Register(h, huma.Operation{
		OperationID: "create-user", Method: http.MethodPost, Path: "/api/v1/users",
		Summary: "Create a user, or give an existing user a role in the workspace",
		Description: "A new user needs a password (12 characters or more) and is audited as user.created. A user that exists " +
			"(in another workspace) is given the role here and keeps its password: sending one is refused (409), so that an admin " +
			"of one workspace cannot take over an account of another. A user that already has a role here is refused (409): change it with PATCH.",
		Tags: []string{"users"}, Security: bearer, DefaultStatus: http.StatusCreated,
		Errors: append([]int{http.StatusConflict, http.StatusUnprocessableEntity}, errs...),
	}, a.createUser)
	huma.Register(h, huma.Operation{
		OperationID: "set-user-role", Method: http.MethodPatch, Path: "/api/v1/users/{name}",
		Summary: "Change a user's role in the workspace",
		Description: "Ends the user's sessions in this workspace (they sign in again with the new role). Audited as user.role (old -> new). " +
			"Taking admin from the workspace's last enabled admin user is refused (409).",
		Tags: []string{"users"}, Security: bearer,
		Errors: append([]int{http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity}, errs...),
	}, a.setUserRole)
	huma.Register(h, huma.Operation{
		OperationID: "remove-user", Method: http.MethodDelete, Path: "/api/v1/users/{name}",
		Summary: "Remove a user from the workspace",
		Description: "Takes the user's role here away and ends its sessions here; the user and its roles in other workspaces stay. " +
			"Audited as user.removed. Removing the workspace's last enabled admin user is refused (409).",
		Tags: []string{"users"}, Security: bearer, DefaultStatus: http.StatusNoContent,
		Errors: append([]int{http.StatusNotFound, http.StatusConflict}, errs...),
	}, a.removeUser)
}

// usersStore is the store's users, or 503 when it keeps none.
func (a *API) usersStore() (store.Users, error) {
	us, ok := a.users()
	if !ok {
		return nil, huma.Error503ServiceUnavailable("this store keeps no users")
	}
	return us, nil
}

func workspaceUser(u tenant.User, ws string) WorkspaceUser {
	return WorkspaceUser{Name: u.Name, Role: u.RoleIn(ws), Disabled: u.Disabled, LastLogin: u.LastLogin, Created: u.Created}
}

func (a *API) listUsers(ctx context.Context, _ *struct{}) (*usersOutput, error) {
	k, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	us, err := a.usersStore()
	if err != nil {
		return nil, err
	}
	all, err := us.Users(ctx)
	if err != nil {
		return nil, a.storeError(ctx, "users", err)
	}
	out := &usersOutput{}
	out.Body.Users = []WorkspaceUser{}
	for _, u := range all {
		if u.RoleIn(k.Workspace) != "" {
			out.Body.Users = append(out.Body.Users, workspaceUser(u, k.Workspace))
		}
	}
	return out, nil
}

// member returns the user name if it has a role in ws; a user of other
// workspaces only is not found, as if it did not exist.
func (a *API) member(ctx context.Context, us store.Users, ws, name string) (tenant.User, error) {
	u, err := us.User(ctx, name)
	if err == nil && u.RoleIn(ws) == "" {
		err = store.ErrNotFound
	}
	if err != nil {
		return u, a.storeError(ctx, "user "+name, err)
	}
	return u, nil
}

func (a *API) createUser(ctx context.Context, in *createUserInput) (*userOutput, error) {
	k, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	us, err := a.usersStore()
	if err != nil {
		return nil, err
	}
	b := in.Body
	if err := tenant.ValidUserName(b.Name); err != nil {
		return nil, invalid("body.name", err.Error(), b.Name)
	}
	old, err := us.User(ctx, b.Name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if b.Password == "" {
			return nil, invalid("body.password", "a new user needs a password", nil)
		}
		hash, err := tenant.HashPassword(b.Password)
		if err != nil {
			return nil, invalid("body.password", err.Error(), nil)
		}
		u := tenant.User{Name: b.Name, PasswordHash: hash, Created: a.now().UTC(),
			Roles: []tenant.Membership{{Workspace: k.Workspace, Role: b.Role}}}
		if err := us.CreateUser(ctx, u); err != nil {
			return nil, a.storeError(ctx, "user "+b.Name, err)
		}
		a.audit(ctx, k, "user.created", "user:"+b.Name, "role "+b.Role)
		return &userOutput{Body: workspaceUser(u, k.Workspace)}, nil
	case err != nil:
		return nil, a.storeError(ctx, "user "+b.Name, err)
	case old.RoleIn(k.Workspace) != "":
		return nil, huma.Error409Conflict("user " + b.Name + " already has a role in this workspace; change it with PATCH /api/v1/users/" + b.Name)
	case b.Password != "":
		return nil, huma.Error409Conflict("user " + b.Name + " exists and keeps its own password: leave password out to give it a role here")
	}
	if err := us.SetRole(ctx, b.Name, k.Workspace, b.Role); err != nil {
		return nil, a.storeError(ctx, "user "+b.Name, err)
	}
	a.audit(ctx, k, "user.role", "user:"+b.Name, "none -> "+b.Role+" (existing user added)")
	old.Roles = append(old.Roles, tenant.Membership{Workspace: k.Workspace, Role: b.Role})
	return &userOutput{Body: workspaceUser(old, k.Workspace)}, nil
}

// lastAdmin reports whether u is the only enabled admin user of ws, whom
// the workspace's people would be locked out of managing without.
func lastAdmin(ctx context.Context, us store.Users, ws string, u tenant.User) (bool, error) {
	if u.RoleIn(ws) != tenant.RoleAdmin || u.Disabled {
		return false, nil
	}
	all, err := us.Users(ctx)
	if err != nil {
		return false, err
	}
	return !slices.ContainsFunc(all, func(o tenant.User) bool {
		return o.Name != u.Name && !o.Disabled && o.RoleIn(ws) == tenant.RoleAdmin
	}), nil
}

// memberOf is the caller's key, the users' store and user name, who must
// have a role in the caller's workspace.
func (a *API) memberOf(ctx context.Context, name string) (tenant.APIKey, store.Users, tenant.User, error) {
	k, err := caller(ctx)
	if err != nil {
		return k, nil, tenant.User{}, err
	}
	us, err := a.usersStore()
	if err != nil {
		return k, nil, tenant.User{}, err
	}
	u, err := a.member(ctx, us, k.Workspace, name)
	return k, us, u, err
}

// refuseLastAdmin refuses a change that would leave workspace ws without
// an enabled admin user.
func (a *API) refuseLastAdmin(ctx context.Context, us store.Users, ws string, u tenant.User) error {
	last, err := lastAdmin(ctx, us, ws, u)
	if err != nil {
		return a.storeError(ctx, "users", err)
	}
	if last {
		return huma.Error409Conflict("user " + u.Name + " is the last admin of this workspace: make another user admin first")
	}
	return nil
}

func (a *API) setUserRole(ctx context.Context, in *setUserRoleInput) (*userOutput, error) {
	k, us, u, err := a.memberOf(ctx, in.Name)
	if err != nil {
		return nil, err
	}
	old := u.RoleIn(k.Workspace)
	if old == in.Body.Role {
		return &userOutput{Body: workspaceUser(u, k.Workspace)}, nil
	}
	if err := a.refuseLastAdmin(ctx, us, k.Workspace, u); err != nil {
		return nil, err
	}
	if err := us.SetRole(ctx, u.Name, k.Workspace, in.Body.Role); err != nil {
		return nil, a.storeError(ctx, "user "+u.Name, err)
	}
	a.audit(ctx, k, "user.role", "user:"+u.Name, old+" -> "+in.Body.Role)
	for i := range u.Roles {
		if u.Roles[i].Workspace == k.Workspace {
			u.Roles[i].Role = in.Body.Role
		}
	}
	return &userOutput{Body: workspaceUser(u, k.Workspace)}, nil
}

func (a *API) removeUser(ctx context.Context, in *userNameInput) (*struct{}, error) {
	k, us, u, err := a.memberOf(ctx, in.Name)
	if err != nil {
		return nil, err
	}
	if err := a.refuseLastAdmin(ctx, us, k.Workspace, u); err != nil {
		return nil, err
	}
	if err := us.SetRole(ctx, u.Name, k.Workspace, ""); err != nil {
		return nil, a.storeError(ctx, "user "+u.Name, err)
	}
	a.audit(ctx, k, "user.removed", "user:"+u.Name, "was "+u.RoleIn(k.Workspace))
	return nil, nil
}
