import { bootLocation, deviceWaits } from "../../plan/agent-starts.js";
import type { Rule, RuleFinding } from "../rule.js";

export const deviceWait: Rule = {
  id: "coder/device-wait",
  title: "A boot that waits for a device gets it from the template",
  severity: "warning",
  description:
    "A loop such as `until [ -e /dev/disk/azure/scsi1/lun10 ]; do sleep 1; done` blocks the boot until the disk shows up; when nothing in the template attaches that device to the instance, the boot never gets past it and no agent starts. A warning: some devices come with the machine type or image.",
  why: "A boot that loops until a device appears blocks every later step; when the template attaches no such device, no agent ever starts and the workspace hangs in `starting`.",
  fix: "Attach the device to this instance in the template (a data disk attachment with the LUN or device name the loop waits for), or wait for the device the template does attach, or remove the loop.",
  example: {
    bad: 'resource "azurerm_linux_virtual_machine" "main" {\n  custom_data = base64encode("#cloud-config\\nbootcmd:\\n  - until [ -e /dev/disk/azure/scsi1/lun10 ]; do sleep 1; done\\n")\n}',
    good: 'resource "azurerm_virtual_machine_data_disk_attachment" "home" {\n  virtual_machine_id = azurerm_linux_virtual_machine.main.id\n  managed_disk_id    = azurerm_managed_disk.home.id\n  lun                = "10"\n  caching            = "ReadWrite"\n}',
  },
  check({ plan, boot }) {
    const out: RuleFinding[] = [];
    for (const instance of plan.instances) {
      if (instance.boot.kind !== "user-data" || instance.windows || !instance.agents.some((a) => a.count > 0)) continue;
      const ud = boot(instance).userData;
      if (!ud) continue;
      for (const w of deviceWaits(ud)) {
        if (instance.devices.includes(w.device)) continue;
        out.push({
          ...bootLocation(instance),
          message: `${instance.address}'s boot (${w.origin}) waits for ${w.device}, which nothing in the template attaches to it: the boot would wait forever and its agents never start`,
          hint: instance.devices.length
            ? `wait for a device the template attaches (${instance.devices.join(", ")})`
            : "attach the disk to this instance in the template (e.g. a data disk attachment), or remove the wait",
        });
      }
    }
    return out;
  },
};
