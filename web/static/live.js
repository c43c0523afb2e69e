// Live updates (server-sent events): to be built.
"use strict";
