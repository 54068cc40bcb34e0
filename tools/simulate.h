/* vigilctl simulate: the policy engine on a saved cluster state. */
#ifndef VG_TOOLS_SIMULATE_H
#define VG_TOOLS_SIMULATE_H

/* argv[0] is "simulate"; returns the exit status. */
int vg_simulate_main(int argc, char **argv);

#endif
