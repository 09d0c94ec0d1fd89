/* The simulator's HTTP handler (sim_api.c), given to tools/httpd. */
#ifndef SIM_API_H
#define SIM_API_H

struct httpd_req;
/* ctx is the struct sim. */
void sim_api_handle(struct httpd_req *r, void *ctx);

#endif
