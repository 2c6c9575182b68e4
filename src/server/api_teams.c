/*
 * api_teams.c - teams in the API: who may see and act on what (api_int.h).
 */
#include "api_int.h"

#include <string.h>

enum auth_role api_team_role(struct api_call *c, const char *team)
{
    const struct auth_principal *who = c->rq->who;

    (void)team;
    return who->role;
}
